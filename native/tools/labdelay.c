/* labdelay: the lab's user-space stand-in for tc netem (kernels without sch_netem).
 * Holds every packet of one NFQUEUE queue for DELAY_US (+/- up to JITTER_US, order kept), drops
 * LOSS_PPM per million at random, then accepts it. REORDER_PPM per million (optional) are swapped
 * with the packet after them: held back and accepted right behind the next one (or alone once the
 * delay and jitter passed twice over with no next one). SIGTERM/SIGINT: accept all held, exit.
 * usage: labdelay QUEUE DELAY_US JITTER_US LOSS_PPM [REORDER_PPM] */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define RING (1u << 17)
static uint32_t ring_id[RING];
static uint64_t ring_due[RING];
static uint32_t head, tail;
static uint64_t delay_ns, jitter_ns, last_due, rng_state;
static uint32_t loss_ppm, reorder_ppm;
static uint64_t n_in, n_lost, n_over, n_reordered;
/* The packet held back to go behind the next one (reordering), and since when. */
static int held_valid;
static uint32_t held_id;
static uint64_t held_since;
static volatile sig_atomic_t stopping;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void die(const char *what) {
  fprintf(stderr, "labdelay: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *d, void *data) {
  (void)msg; (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(d);
  if (ph == NULL) return 0;
  uint32_t id = ntohl(ph->packet_id);
  n_in++;
  if (loss_ppm > 0 && rnd() % 1000000u < loss_ppm) { n_lost++; return nfq_set_verdict(q, id, NF_DROP, 0, NULL); }
  if (tail - head >= RING - 1) { n_over++; return nfq_set_verdict(q, id, NF_DROP, 0, NULL); }
  if (!held_valid && reorder_ppm > 0 && rnd() % 1000000u < reorder_ppm) {
    held_valid = 1;
    held_id = id;
    held_since = now_ns();
    return 0;
  }
  int64_t due = (int64_t)(now_ns() + delay_ns);
  if (jitter_ns > 0) due += (int64_t)(rnd() % (2 * jitter_ns + 1)) - (int64_t)jitter_ns;
  if ((uint64_t)due < last_due) due = (int64_t)last_due; /* keep packet order */
  last_due = (uint64_t)due;
  ring_id[tail % RING] = id;
  ring_due[tail % RING] = (uint64_t)due;
  tail++;
  if (held_valid) { /* the held one goes right behind this one */
    held_valid = 0;
    n_reordered++;
    ring_id[tail % RING] = held_id;
    ring_due[tail % RING] = (uint64_t)due;
    tail++;
  }
  return 0;
}

/* A held packet with no packet after it for twice the delay and jitter goes alone. */
static void release_lonely(uint64_t now) {
  if (!held_valid || now - held_since < 2 * (delay_ns + jitter_ns) + 1000000ull) return;
  held_valid = 0;
  uint64_t due = now > last_due ? now : last_due;
  last_due = due;
  ring_id[tail % RING] = held_id;
  ring_due[tail % RING] = due;
  tail++;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: labdelay QUEUE DELAY_US JITTER_US LOSS_PPM [REORDER_PPM]\n");
    return 2;
  }
  uint16_t qnum = (uint16_t)strtoul(argv[1], NULL, 10);
  delay_ns = strtoull(argv[2], NULL, 10) * 1000ull;
  jitter_ns = strtoull(argv[3], NULL, 10) * 1000ull;
  loss_ppm = (uint32_t)strtoul(argv[4], NULL, 10);
  reorder_ppm = argc == 6 ? (uint32_t)strtoul(argv[5], NULL, 10) : 0;
  rng_state = now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
  if (rng_state == 0) rng_state = 1;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: ppoll returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  struct nfq_handle *h = nfq_open();
  if (h == NULL) die("nfq_open");
  struct nfq_q_handle *q = nfq_create_queue(h, qnum, on_packet, NULL);
  if (q == NULL) die("nfq_create_queue (queue in use?)");
  if (nfq_set_mode(q, NFQNL_COPY_META, 0) < 0) die("nfq_set_mode");
  if (nfq_set_queue_maxlen(q, 100000) < 0) die("nfq_set_queue_maxlen");
  /* Whole GSO packets (no segmentation for us); if the queue ever fills, let packets through. */
  nfq_set_queue_flags(q, NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN);
  int fd = nfq_fd(h);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 4u << 20);
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  printf("ready\n");
  fflush(stdout);

  static char buf[1 << 16] __attribute__((aligned(8)));
  while (!stopping) {
    uint64_t now = now_ns();
    release_lonely(now);
    while (head != tail && ring_due[head % RING] <= now) {
      nfq_set_verdict(q, ring_id[head % RING], NF_ACCEPT, 0, NULL);
      head++;
    }
    struct timespec ts, *tsp = NULL;
    if (head != tail || held_valid) {
      uint64_t wait = head != tail ? ring_due[head % RING] - now : 1000000ull;
      ts.tv_sec = (time_t)(wait / 1000000000ull);
      ts.tv_nsec = (long)(wait % 1000000000ull);
      tsp = &ts;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    int r = ppoll(&p, 1, tsp, NULL);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    if (r == 0) continue;
    for (;;) {
      ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (k < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR || errno == ENOBUFS) continue;
        die("recv");
      }
      nfq_handle_packet(h, buf, (int)k);
    }
  }
  if (held_valid) nfq_set_verdict(q, held_id, NF_ACCEPT, 0, NULL);
  while (head != tail) { /* release everything still held */
    nfq_set_verdict(q, ring_id[head % RING], NF_ACCEPT, 0, NULL);
    head++;
  }
  fprintf(stderr, "labdelay: packets=%llu lost=%llu overflow=%llu reordered=%llu\n", (unsigned long long)n_in,
          (unsigned long long)n_lost, (unsigned long long)n_over, (unsigned long long)n_reordered);
  nfq_destroy_queue(q);
  nfq_close(h);
  return 0;
}

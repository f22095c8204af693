/* Live capture on a packet socket without a ring, for named Ethernet and loopback devices. The kernel
 * queues the packets that pass the filter in the socket's receive buffer (SO_RCVBUFFORCE, counted by
 * PACKET_STATISTICS when full); uv_poll wakes the loop on the first one, and each readable event
 * drains the socket with recvmmsg into a staging buffer that is created once and reused for every
 * batch. Compared with libpcap's TPACKET_V3 ring there is no block timeout to wait for (the first
 * packet of a quiet period is delivered at once), no thread hop and no allocation per batch; under
 * load each recvmmsg returns a full batch.
 *   onBatch(count, received, dropped, ifDropped)          `count` packets are in the staging buffer
 *   onBatch(-1, received, dropped, ifDropped, error)      the socket failed (polling stopped)
 * The staging buffer (rxOpen's `buffer`) holds RX_BATCH records of META_WORDS uint32 in host order
 * [dataOffset, caplen, origLen, tsSecLo, tsSecHi, tsNsec] (dataOffset counted from the end of all
 * RX_BATCH records, as CaptureBatch reads them with an explicit data base), then RX_BATCH slots of
 * `snaplen` bytes. Its contents are valid only until the callback returns.
 * A readable event reads until the socket is empty or `sliceMs` has passed; what is left waits in
 * the socket for the next loop turn, so the loop's other I/O and timers run in between.
 * The filter is compiled by libpcap for DLT_EN10MB (what libpcap reports for these devices) and
 * attached with SO_ATTACH_FILTER before the socket is bound, so no unfiltered packet is ever queued.
 * On loopback the outgoing copy of each packet is skipped (libpcap does the same). */
#include "common.h"
#include "handle.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define META_WORDS 6
#define RX_BATCH 64
#define STATS_REFRESH_MS 200
#define CTRL_BYTES 64

typedef struct tc_rx {
  tc_handle h; /* first: polled, and alive until close() (handle.h) */
  int fd;
  int ifindex;
  bool loopback;
  napi_ref staging; /* the shared Buffer */
  uint32_t snaplen;
  uint64_t slice_ns;
  uint32_t *meta;   /* inside the staging buffer */
  uint8_t *slots;   /* inside the staging buffer */
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  struct sockaddr_ll addrs[RX_BATCH];
  uint8_t ctrl[RX_BATCH][CTRL_BYTES];
  double received;
  double skipped; /* loopback's outgoing copies: passed the filter, counted by the kernel, not delivered */
  double dropped;
  tc_ifdrops ifdrops;
  uint64_t stats_refreshed_ms;
  char device[IF_NAMESIZE + 16];
} tc_rx;

static void rx_release(tc_handle *h) {
  tc_rx *c = (tc_rx *)h;
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  tc_ifdrops_close(&c->ifdrops);
}

static void refresh_stats(tc_rx *c) {
  struct tpacket_stats st;
  socklen_t len = sizeof st;
  memset(&st, 0, sizeof st);
  /* Reading PACKET_STATISTICS resets the kernel's counters: accumulate. tp_packets includes drops. */
  if (c->fd >= 0 && getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    c->received += st.tp_packets;
    c->dropped += st.tp_drops;
  }
  tc_ifdrops_refresh(&c->ifdrops, c->device);
}

/* [received, dropped, ifDropped] as reported to JS. */
static void stats_values(const tc_rx *c, double v[3]) {
  v[0] = c->received - c->skipped;
  v[1] = c->dropped;
  v[2] = c->ifdrops.dropped;
}

static bool stats_args(tc_rx *c, napi_value *argv) {
  double v[3];
  stats_values(c, v);
  return tc_numbers(c->h.env, v, 3, argv);
}

static void prepare(tc_rx *c) {
  for (int i = 0; i < RX_BATCH; i++) {
    struct msghdr *h = &c->msgs[i].msg_hdr;
    h->msg_name = &c->addrs[i];
    h->msg_namelen = sizeof c->addrs[i];
    h->msg_iov = &c->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = c->ctrl[i];
    h->msg_controllen = CTRL_BYTES;
    h->msg_flags = 0;
  }
}

static void deliver_error(tc_rx *c, const tc_error *e) {
  napi_value argv[5];
  refresh_stats(c);
  if (napi_create_int32(c->h.env, -1, &argv[0]) != napi_ok || !stats_args(c, &argv[1])) return;
  argv[4] = tc_make_error(c->h.env, e);
  if (!argv[4]) return;
  tc_call_js(c->h.env, c->h.actx, c->h.cb, 5, argv);
}

/* Fills the records of the packets just received; returns how many are kept. */
static uint32_t fill_records(tc_rx *c, int n) {
  uint32_t kept = 0;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &c->msgs[i].msg_hdr;
    if (c->loopback && c->addrs[i].sll_pkttype == PACKET_OUTGOING) {
      c->skipped += 1;
      continue;
    }
    uint32_t len = c->msgs[i].msg_len;
    uint32_t caplen = len < c->snaplen ? len : c->snaplen;
    struct timespec ts = {0, 0};
    bool stamped = false;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS && cm->cmsg_len >= CMSG_LEN(sizeof ts)) {
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        stamped = true;
      }
    }
    if (!stamped) clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t *m = c->meta + kept * META_WORDS;
    uint64_t sec = (uint64_t)ts.tv_sec;
    m[0] = (uint32_t)i * c->snaplen;
    m[1] = caplen;
    m[2] = len;
    m[3] = (uint32_t)(sec & 0xffffffffu);
    m[4] = (uint32_t)(sec >> 32);
    m[5] = (uint32_t)ts.tv_nsec;
    kept++;
  }
  return kept;
}

static void socket_error(tc_rx *c, int err, tc_error *e) {
  const char *code = tc_errno_code(err);
  if (err == ENETDOWN) {
    /* down, or gone: a deleted device has no name for its index any more */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = c->ifindex;
    if (ioctl(c->fd, SIOCGIFNAME, &ifr) < 0 && errno == ENODEV) {
      tc_error_set(e, "ENODEV", ENODEV, "capture on '%s' failed: the device disappeared", c->device);
      return;
    }
    tc_error_set(e, "ENETDOWN", ENETDOWN, "capture on '%s' failed: the device went down", c->device);
    return;
  }
  tc_error_set(e, code, err, "capture on '%s' failed: %s", c->device, strerror(err));
}

static void rx_on_poll(tc_handle *h, int status) {
  tc_rx *c = (tc_rx *)h;
  if (c->fd < 0 || h->failed) return;
  napi_env env = h->env;
  uint64_t start = uv_hrtime();
  tc_error err;
  bool failed = false;
  while (c->fd >= 0) {
    prepare(c);
    int n = recvmmsg(c->fd, c->msgs, RX_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      socket_error(c, errno, &err);
      failed = true;
      break;
    }
    if (n == 0) break;
    uint32_t kept = fill_records(c, n);
    uint64_t now_ms = uv_now(uv_handle_get_loop((uv_handle_t *)h->poll));
    if (now_ms - c->stats_refreshed_ms >= STATS_REFRESH_MS) {
      refresh_stats(c);
      c->stats_refreshed_ms = now_ms;
    }
    if (kept > 0) {
      napi_value argv[4];
      if (napi_create_uint32(env, kept, &argv[0]) != napi_ok || !stats_args(c, &argv[1])) break;
      tc_call_js(env, h->actx, h->cb, 4, argv);
    }
    if (c->fd < 0 || h->failed) break; /* closed from the callback */
    if (n < RX_BATCH || uv_hrtime() - start >= c->slice_ns) break;
  }
  if (!failed && status < 0 && c->fd >= 0 && !h->failed) {
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0) socket_error(c, soerr, &err);
    else tc_error_set(&err, "EPOLL", -status, "capture on '%s' failed: polling reported %s", c->device, uv_strerror(status));
    failed = true;
  }
  if (failed && c->fd >= 0 && tc_handle_fail(h)) deliver_error(c, &err);
}

static const tc_handle_ops rx_ops = {
  .name = "capture",
  .expected = "expected a socket capture handle",
  .resource = "tcpcopy.SocketCapture",
  .release = rx_release,
  .on_poll = rx_on_poll,
};

/* A call's `n` arguments, the first a socket capture handle. */
static tc_rx *rx_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  return (tc_rx *)tc_handle_args(env, info, n, argv, &rx_ops, usage);
}

/* Opens the socket inside the current namespace: filter, buffer, timestamps, bind, promisc. */
static int open_socket(const char *device, const char *filter, int snaplen, int bufbytes, bool promisc,
                       int *ifindex_out, bool *loopback_out, tc_error *e) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); /* protocol 0: receives nothing yet */
  if (fd < 0) {
    tc_error_errno(e, errno, "open packet socket", errno == EPERM ? "capturing needs root or CAP_NET_RAW" : NULL);
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", device);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    int err = errno;
    if (err == ENODEV) tc_error_set(e, "ENODEV", ENODEV, "no such device '%s'", device);
    else tc_error_errno(e, err, "look up the capture device", NULL);
    close(fd);
    return -1;
  }
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    tc_error_errno(e, errno, "read the capture device's link type", NULL);
    close(fd);
    return -1;
  }
  int hatype = ifr.ifr_hwaddr.sa_family;
  if (hatype != ARPHRD_ETHER && hatype != ARPHRD_LOOPBACK) {
    tc_error_set(e, "ENOTSUP", 0, "device '%s' is not Ethernet or loopback (ARPHRD %d)", device, hatype);
    close(fd);
    return -1;
  }
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", device);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) == 0) {
    tc_error_set(e, "ENETDOWN", ENETDOWN, "device '%s' is not up", device);
    close(fd);
    return -1;
  }
  if (strstr(filter, "vlan") || strstr(filter, "mpls")) {
    /* The kernel strips offloaded VLAN tags before packet sockets see them; libpcap's live capture
     * compensates (auxdata), a program compiled for a dead handle does not. */
    tc_error_set(e, "ENOTSUP", 0, "VLAN/MPLS filters need libpcap's live capture");
    close(fd);
    return -1;
  }
  if (filter[0]) {
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, snaplen);
    struct bpf_program prog;
    if (!dead) {
      tc_error_set(e, "EPCAP", 0, "pcap_open_dead failed");
      close(fd);
      return -1;
    }
    if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
      tc_error_set(e, "EBADFILTER", 0, "bad capture filter \"%s\": %s", filter, pcap_geterr(dead));
      pcap_close(dead);
      close(fd);
      return -1;
    }
    /* The program returns the snaplen for an accepted packet, and the kernel would cut the packet to
     * it before queueing (so MSG_TRUNC could not report the length on the wire): accept it whole,
     * the read is bounded by the slot size (libpcap does the same for non-ring sockets). */
    for (u_int i = 0; i < prog.bf_len; i++) {
      if (prog.bf_insns[i].code == (BPF_RET | BPF_K) && prog.bf_insns[i].k != 0) prog.bf_insns[i].k = 0x40000;
    }
    /* struct bpf_insn and struct sock_filter have the same layout (code, jt, jf, k). */
    struct sock_fprog fprog = {.len = (unsigned short)prog.bf_len, .filter = (struct sock_filter *)prog.bf_insns};
    int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
    int err = errno;
    pcap_freecode(&prog);
    pcap_close(dead);
    if (rc < 0) {
      /* too long for the kernel (4096 instructions, optmem_max): libpcap filters in user space */
      tc_error_set(e, "ENOTSUP", err, "the kernel refused the capture filter \"%s\": %s", filter, strerror(err));
      close(fd);
      return -1;
    }
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufbytes, sizeof bufbytes) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufbytes, sizeof bufbytes);
  }
  int got = 0;
  socklen_t gotlen = sizeof got;
  /* The kernel reports twice what was set (its bookkeeping share). Without CAP_NET_ADMIN the size is
   * capped by net.core.rmem_max; a ring (libpcap) is not, so leave such a capture to libpcap. */
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gotlen) == 0 && got < bufbytes) {
    tc_error_set(e, "ENOTSUP", 0, "socket buffer of %d bytes is capped at %d (net.core.rmem_max; SO_RCVBUFFORCE needs CAP_NET_ADMIN)",
                 bufbytes, got);
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    tc_error_errno(e, errno, "bind the packet socket", NULL);
    close(fd);
    return -1;
  }
  if (promisc) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
      tc_error_errno(e, errno, "enable promiscuous mode", NULL);
      close(fd);
      return -1;
    }
  }
  *ifindex_out = ifindex;
  *loopback_out = hatype == ARPHRD_LOOPBACK;
  return fd;
}

/* Stops and releases everything a capture holds (socket, poll, references); the finalizer frees it. */
static void rx_teardown(napi_env env, tc_rx *c) {
  tc_handle_close(env, &c->h);
  if (c->staging) {
    napi_delete_reference(env, c->staging);
    c->staging = NULL;
  }
}

/* rxOpen({device, filter, snaplen, bufferBytes, promisc, netns, sliceMs}, onBatch)
 *   -> {handle, buffer, batch, linkType, snaplen}; throws ENODEV, EPERM, ENETDOWN, EBADFILTER, ENOTSUP, ENETNS. */
static napi_value rx_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!tc_open_args(env, info, argv, "rxOpen(options, onBatch)")) return NULL;
  char device[IF_NAMESIZE + 16], netns[256], filter[8192];
  int64_t snaplen, bufbytes, slice_ms;
  bool promisc;
  if (!tc_prop_string(env, argv[0], "device", device, sizeof device, false) ||
      !tc_prop_string(env, argv[0], "filter", filter, sizeof filter, true) ||
      !tc_prop_string(env, argv[0], "netns", netns, sizeof netns, true) ||
      !tc_prop_int(env, argv[0], "snaplen", 64, 262144, 65535, &snaplen) ||
      !tc_prop_int(env, argv[0], "bufferBytes", 65536, (int64_t)1 << 30, 32 << 20, &bufbytes) ||
      !tc_prop_int(env, argv[0], "sliceMs", 1, 1000, 4, &slice_ms) ||
      !tc_prop_bool(env, argv[0], "promisc", false, &promisc))
    return NULL;
  if (!device[0] || strlen(device) >= IF_NAMESIZE) return tc_throw_type(env, "option 'device' must name one interface");
  if (strcmp(device, "any") == 0) return tc_throw_type(env, "socket capture needs a named device, not 'any'");

  tc_error e;
  tc_netns_guard g;
  if (!tc_netns_enter(netns, &g, &e)) return tc_throw(env, &e);
  int ifindex = 0;
  bool loopback = false;
  int fd = open_socket(device, filter, (int)snaplen, (int)bufbytes, promisc, &ifindex, &loopback, &e);
  int procdev_fd = fd >= 0 ? open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC) : -1;
  tc_netns_leave(&g);
  if (fd < 0) {
    char ns[260];
    size_t l = strlen(e.msg);
    tc_netns_suffix(netns, ns, sizeof ns);
    if (ns[0] && l + strlen(ns) < sizeof e.msg) memcpy(e.msg + l, ns, strlen(ns) + 1);
    return tc_throw(env, &e);
  }

  tc_rx *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    if (procdev_fd >= 0) close(procdev_fd);
    tc_error_errno(&e, ENOMEM, "rxOpen", NULL);
    return tc_throw(env, &e);
  }
  c->fd = fd;
  c->ifdrops.fd = procdev_fd;
  c->ifindex = ifindex;
  c->loopback = loopback;
  c->snaplen = (uint32_t)snaplen;
  c->slice_ns = (uint64_t)slice_ms * 1000000u;
  snprintf(c->device, sizeof c->device, "%s", device);
  refresh_stats(c);

  napi_value handle = tc_handle_wrap(env, &c->h, &rx_ops);
  if (!handle) return NULL;
  napi_value buffer, result;
  size_t meta_bytes = RX_BATCH * META_WORDS * sizeof(uint32_t);
  void *area = NULL;
  if (!tc_ok(env, napi_create_buffer(env, meta_bytes + (size_t)RX_BATCH * c->snaplen, &area, &buffer), "staging buffer") ||
      !tc_ok(env, napi_create_reference(env, buffer, 1, &c->staging), "reference")) {
    rx_teardown(env, c);
    return NULL;
  }
  c->meta = area;
  c->slots = (uint8_t *)area + meta_bytes;
  for (int i = 0; i < RX_BATCH; i++) {
    c->iov[i].iov_base = c->slots + (size_t)i * c->snaplen;
    c->iov[i].iov_len = c->snaplen;
  }
  char what[sizeof device + 16];
  snprintf(what, sizeof what, "capture on '%s'", device);
  if (!tc_handle_poll(env, &c->h, handle, fd, argv[1], what)) {
    rx_teardown(env, c);
    return NULL;
  }
  if (!tc_ok(env, napi_create_object(env, &result), "object") || !tc_set_prop(env, result, "handle", handle) ||
      !tc_set_prop(env, result, "buffer", buffer) || !tc_set_prop_int(env, result, "batch", RX_BATCH) ||
      !tc_set_prop_int(env, result, "linkType", DLT_EN10MB) || !tc_set_prop_int(env, result, "snaplen", c->snaplen)) {
    rx_teardown(env, c); /* JS would never get the handle to close it */
    return NULL;
  }
  return result;
}

/* rxClose(handle): stops polling, closes the socket and drops the references; safe to call twice
 * (also from inside onBatch). */
static napi_value rx_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_rx *c = rx_args(env, info, 1, argv, "rxClose(handle)");
  if (!c) return NULL;
  if (c->fd >= 0) refresh_stats(c);
  rx_teardown(env, c);
  return NULL;
}

/* rxStats(handle) -> [received, dropped, ifDropped] (cumulative since open). */
static napi_value rx_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_rx *c = rx_args(env, info, 1, argv, "rxStats(handle)");
  if (!c) return NULL;
  if (c->fd >= 0) refresh_stats(c);
  double vals[3];
  stats_values(c, vals);
  return tc_number_array(env, vals, 3);
}

/* rxSetRef(handle, ref): whether the open capture keeps the event loop alive. */
static napi_value rx_set_ref(napi_env env, napi_callback_info info) {
  return tc_handle_set_ref(env, info, &rx_ops, "rxSetRef(handle, ref)");
}

napi_status tc_rxsock_init(napi_env env, napi_value exports) {
  bool ok = tc_export(env, exports, "rxOpen", rx_open) && tc_export(env, exports, "rxClose", rx_close) &&
            tc_export(env, exports, "rxStats", rx_stats) && tc_export(env, exports, "rxSetRef", rx_set_ref);
  return ok ? napi_ok : napi_generic_failure;
}

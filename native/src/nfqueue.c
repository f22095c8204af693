/* NFQUEUE for traditional intercept: binds one queue over a libmnl netlink socket (copy mode
 * NFQNL_COPY_PACKET truncated to `copyBytes`, flags FAIL_OPEN + GSO: a full queue or an overflowing
 * socket lets packets through instead of dropping them), polled with uv_poll on the main loop. On
 * readable it drains the socket and makes one JS call per batch:
 *   onBatch(buffer, count)          a batch
 *   onBatch(null, 0, error)         the socket failed (polling stopped)
 * `buffer` is a fresh copy owned by JS: first `count` records of NFQ_META_WORDS uint32 (host order)
 *   [dataOffset (from the end of the records), caplen, origLen, packetId, hwProtocol]
 * then the packets (from their IP header) back to back. Verdicts go back in batches: nfqVerdict packs
 * one NFQNL_MSG_VERDICT per packet into as few netlink datagrams as fit (one sendto each). */
#include "common.h"
#include "handle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define NFQ_META_WORDS 5
#define NFQ_RECV_BYTES (256u << 10)  /* one datagram holds many queued packets */
#define NFQ_RECV_MAX 512             /* datagrams (one queued packet each) per poll event: one JS call */
#define NFQ_SEND_BYTES (64u << 10)   /* verdict datagram size */
#define NFQ_RCVBUF (8 << 20)

typedef struct tc_nfq {
  tc_handle h; /* first: polled, and alive until close() (handle.h) */
  struct mnl_socket *nl;
  int fd;
  uint32_t portid;
  uint32_t seq;
  uint16_t queue;
  tc_batch batch;
  uint8_t *rbuf;
  uint8_t *sbuf;
  /* statistics */
  double received, staging_lost, verdicts, verdict_errors, overruns;
} tc_nfq;

static void nfq_release(tc_handle *h) {
  tc_nfq *q = (tc_nfq *)h;
  if (q->nl) {
    mnl_socket_close(q->nl); /* the kernel unbinds the queue and drops what it still holds */
    q->nl = NULL;
    q->fd = -1;
  }
  tc_batch_free(&q->batch);
  free(q->rbuf);
  q->rbuf = NULL;
  free(q->sbuf);
  q->sbuf = NULL;
}

/* Sends one configuration message with NLM_F_ACK and waits for the kernel's answer (blocking). */
static bool nfq_config(tc_nfq *q, struct nlmsghdr *nlh, tc_error *e, const char *what) {
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++q->seq;
  if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
    tc_error_errno(e, errno, what, NULL);
    return false;
  }
  uint8_t buf[8192];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      tc_error_errno(e, errno, what, NULL);
      return false;
    }
    int r = mnl_cb_run(buf, (size_t)n, q->seq, q->portid, NULL, NULL);
    if (r < 0) {
      int err = errno;
      tc_error_errno(e, err, what, err == EBUSY || err == EPERM ? "is another program bound to this queue?" : NULL);
      return false;
    }
    if (r == MNL_CB_STOP) return true;
  }
}

/* Stages every queued packet of one datagram; counts the errors the kernel reported for verdicts. */
static void parse_datagram(tc_nfq *q, const uint8_t *buf, size_t len) {
  const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
  int remaining = (int)len;
  for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
      if (err->error != 0) q->verdict_errors += 1;
      continue;
    }
    if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) continue;
    struct nlattr *attr[NFQA_MAX + 1];
    memset(attr, 0, sizeof attr);
    if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) continue;
    const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    uint32_t id = ntohl(ph->packet_id);
    uint16_t hwproto = ntohs(ph->hw_protocol);
    const void *payload = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload(attr[NFQA_PAYLOAD]) : NULL;
    uint32_t caplen = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
    uint32_t origlen = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : caplen;
    q->received += 1;
    uint32_t *m = tc_batch_add(&q->batch, payload ? payload : "", caplen);
    if (!m) {
      q->staging_lost += 1;
      continue;
    }
    m[1] = caplen;
    m[2] = origlen;
    m[3] = id;
    m[4] = hwproto;
  }
}

static void deliver(tc_nfq *q) {
  napi_env env = q->h.env;
  size_t count = q->batch.count;
  napi_value argv[2];
  if (!tc_batch_take(env, &q->batch, &argv[0])) {
    q->staging_lost += (double)count; /* unanswered: fail-open / the kernel's queue timeout applies */
    return;
  }
  if (napi_create_uint32(env, (uint32_t)count, &argv[1]) != napi_ok) return;
  tc_call_js(env, q->h.actx, q->h.cb, 2, argv);
}

static void nfq_on_poll(tc_handle *h, int status) {
  tc_nfq *q = (tc_nfq *)h;
  if (!q->nl) return;
  napi_env env = h->env;
  tc_error err;
  bool failed = false;
  for (int i = 0; i < NFQ_RECV_MAX && q->nl; i++) {
    ssize_t n = recv(q->fd, q->rbuf, NFQ_RECV_BYTES, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) { /* the kernel could not queue to us: those packets were let through */
        q->overruns += 1;
        continue;
      }
      tc_error_errno(&err, errno, "read nfqueue", NULL);
      failed = true;
      break;
    }
    parse_datagram(q, q->rbuf, (size_t)n);
  }
  if (q->nl && q->batch.count > 0) deliver(q);
  if (!failed && status < 0 && q->nl) {
    tc_error_set(&err, "EPOLL", -status, "nfqueue %u: polling reported %s", q->queue, uv_strerror(status));
    failed = true;
  }
  if (failed && q->nl && tc_handle_fail(h)) {
    napi_value argv[3];
    if (napi_get_null(env, &argv[0]) == napi_ok && napi_create_uint32(env, 0, &argv[1]) == napi_ok &&
        (argv[2] = tc_make_error(env, &err)) != NULL)
      tc_call_js(env, h->actx, h->cb, 3, argv);
  }
}

static const tc_handle_ops nfq_ops = {
  .name = "nfqueue",
  .expected = "expected an nfqueue handle",
  .resource = "tcpcopy.NfQueue",
  .release = nfq_release,
  .on_poll = nfq_on_poll,
};

/* A call's `n` arguments, the first an nfqueue handle. */
static tc_nfq *nfq_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  return (tc_nfq *)tc_handle_args(env, info, n, argv, &nfq_ops, usage);
}

/* nfqOpen({queue, copyBytes, maxLen, netns}, onBatch) -> handle */
static napi_value nfq_open_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!tc_open_args(env, info, argv, "nfqOpen(options, onBatch)")) return NULL;
  int64_t queue, copy, maxlen;
  char netns[256];
  if (!tc_prop_int(env, argv[0], "queue", 0, 65535, 0, &queue) ||
      !tc_prop_int(env, argv[0], "copyBytes", 0, 65535, 256, &copy) ||
      !tc_prop_int(env, argv[0], "maxLen", 1, 1 << 22, 65536, &maxlen) ||
      !tc_prop_string(env, argv[0], "netns", netns, sizeof netns, true))
    return NULL;

  tc_error e;
  tc_nfq *q = calloc(1, sizeof *q);
  if (!q) {
    tc_error_errno(&e, ENOMEM, "nfqOpen", NULL);
    return tc_throw(env, &e);
  }
  q->fd = -1;
  q->batch.words = NFQ_META_WORDS;
  q->queue = (uint16_t)queue;
  q->seq = (uint32_t)time(NULL);
  q->rbuf = malloc(NFQ_RECV_BYTES);
  q->sbuf = malloc(NFQ_SEND_BYTES);
  bool ok = q->rbuf && q->sbuf;
  if (!ok) tc_error_errno(&e, ENOMEM, "nfqOpen", NULL);

  tc_netns_guard g = { .saved_fd = -1 };
  bool entered = ok && tc_netns_enter(netns, &g, &e);
  ok = entered;
  if (ok) {
    q->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!q->nl) {
      tc_error_errno(&e, errno, "open netfilter netlink socket", "needs root or CAP_NET_ADMIN");
      ok = false;
    } else if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
      tc_error_errno(&e, errno, "bind netfilter netlink socket", NULL);
      ok = false;
    }
  }
  if (entered) tc_netns_leave(&g);
  if (ok) {
    q->portid = mnl_socket_get_portid(q->nl);
    q->fd = mnl_socket_get_fd(q->nl);
    int size = NFQ_RCVBUF, one = 1;
    if (setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
      setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    ok = nfq_config(q, nlh, &e, "bind nfqueue");
    if (ok) {
      nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
      nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy);
      nfq_nlmsg_cfg_put_qmaxlen(nlh, (uint32_t)maxlen);
      uint32_t flags = htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
      mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, flags);
      mnl_attr_put_u32(nlh, NFQA_CFG_MASK, flags);
      ok = nfq_config(q, nlh, &e, "configure nfqueue");
    }
    if (ok && fcntl(q->fd, F_SETFL, fcntl(q->fd, F_GETFL) | O_NONBLOCK) < 0) {
      tc_error_errno(&e, errno, "make nfqueue socket nonblocking", NULL);
      ok = false;
    }
  }
  if (!ok) {
    nfq_release(&q->h);
    free(q);
    return tc_throw(env, &e);
  }

  napi_value handle = tc_handle_wrap(env, &q->h, &nfq_ops);
  if (!handle) return NULL;
  char what[32];
  snprintf(what, sizeof what, "nfqueue %u", q->queue);
  if (!tc_handle_poll(env, &q->h, handle, q->fd, argv[1], what)) return NULL;
  return handle;
}

/* nfqVerdict(handle, ids: Uint32Array, verdicts: Uint8Array, count) -> sent. verdicts[k]: 0 DROP, 1 ACCEPT. */
static napi_value nfq_verdict_js(napi_env env, napi_callback_info info) {
  napi_value argv[4], out;
  tc_nfq *q = nfq_args(env, info, 4, argv, "nfqVerdict(handle, ids, verdicts, count)");
  if (!q) return NULL;
  napi_typedarray_type t1, t2;
  size_t n1, n2;
  void *ids_p = NULL, *v_p = NULL;
  int64_t count;
  if (napi_get_typedarray_info(env, argv[1], &t1, &n1, &ids_p, NULL, NULL) != napi_ok || t1 != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[2], &t2, &n2, &v_p, NULL, NULL) != napi_ok || t2 != napi_uint8_array)
    return tc_throw_type(env, "nfqVerdict: ids must be a Uint32Array and verdicts a Uint8Array");
  if (!tc_get_int(env, argv[3], 0, (int64_t)(n1 < n2 ? n1 : n2), "count", &count)) return NULL;
  if (!q->nl) {
    tc_error e;
    tc_error_set(&e, "ECLOSED", 0, "nfqueue %u is closed", q->queue);
    return tc_throw(env, &e);
  }
  const uint32_t *ids = ids_p;
  const uint8_t *verdicts = v_p;
  size_t used = 0, sent = 0, inbuf = 0;
  for (int64_t k = 0; k <= count; k++) {
    /* room for one more verdict message, or the end: flush what is packed */
    if (k == count || used + MNL_ALIGN(sizeof(struct nlmsghdr)) + 64 > NFQ_SEND_BYTES) {
      if (used > 0) {
        ssize_t r;
        do r = mnl_socket_sendto(q->nl, q->sbuf, used);
        while (r < 0 && errno == EINTR);
        if (r < 0) q->verdict_errors += (double)inbuf;
        else sent += inbuf;
      }
      used = 0;
      inbuf = 0;
      if (k == count) break;
    }
    struct nlmsghdr *nlh = nfq_nlmsg_put((char *)q->sbuf + used, NFQNL_MSG_VERDICT, q->queue);
    nfq_nlmsg_verdict_put(nlh, (int)ids[k], verdicts[k] ? NF_ACCEPT : NF_DROP);
    used += MNL_ALIGN(nlh->nlmsg_len);
    inbuf++;
  }
  q->verdicts += (double)sent;
  if (!tc_ok(env, napi_create_double(env, (double)sent, &out), "number")) return NULL;
  return out;
}

/* nfqStats(handle) -> [received, stagingLost, verdicts, verdictErrors, overruns] */
static napi_value nfq_stats_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_nfq *q = nfq_args(env, info, 1, argv, "nfqStats(handle)");
  if (!q) return NULL;
  double vals[5] = { q->received, q->staging_lost, q->verdicts, q->verdict_errors, q->overruns };
  return tc_number_array(env, vals, 5);
}

/* nfqClose(handle): unbinds (closing the socket) and frees everything; idempotent. Packets the
 * kernel still holds for this queue are dropped by it, so give them their verdicts first. */
static napi_value nfq_close_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_nfq *q = nfq_args(env, info, 1, argv, "nfqClose(handle)");
  if (!q) return NULL;
  tc_handle_close(env, &q->h);
  return NULL;
}

napi_status tc_nfqueue_init(napi_env env, napi_value exports) {
  napi_value n;
  bool ok = tc_export(env, exports, "nfqOpen", nfq_open_js) && tc_export(env, exports, "nfqVerdict", nfq_verdict_js) &&
            tc_export(env, exports, "nfqStats", nfq_stats_js) && tc_export(env, exports, "nfqClose", nfq_close_js) &&
            napi_create_uint32(env, NFQ_META_WORDS, &n) == napi_ok &&
            napi_set_named_property(env, exports, "NFQ_META_WORDS", n) == napi_ok;
  return ok ? napi_ok : napi_generic_failure;
}

/* Live capture over libpcap: TPACKET_V3 (a ~1 ms block timeout, not immediate mode), nanosecond
 * timestamps, nonblocking, polled with uv_poll on the main loop. On readable it drains the ring with
 * pcap_dispatch into a staging area and makes one JS call per batch:
 *   onBatch(buffer, count, received, dropped, ifDropped)         a batch
 *   onBatch(null, 0, received, dropped, ifDropped, error)        the handle failed (polling stopped)
 * `buffer` is a fresh copy owned by JS: first `count` records of META_WORDS uint32 (host order)
 *   [dataOffset (from the end of the records), caplen, origLen, tsSecLo, tsSecHi, tsNsec]
 * then the packet bytes back to back. Drop counts come from PACKET_STATISTICS on the packet socket
 * (accumulated here: pcap_stats would read /proc/net/dev of the wrong namespace) and from the
 * device's rx drop counter in /proc/<thread>/net/dev, opened inside the capture's namespace. */
#include "common.h"
#include "handle.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define META_WORDS 6
#define DISPATCH_MAX 1024          /* packets per pcap_dispatch call: bounds staging growth */
#define FLUSH_BYTES (1u << 20)     /* deliver early when the staged bytes exceed this */
#define FLUSH_PACKETS 16384u
#define STATS_REFRESH_MS 200      /* kernel and interface drop counters passed with batches at most this often */

typedef struct tc_capture {
  tc_handle h; /* first: polled, and alive until close() (handle.h) */
  pcap_t *pcap;
  int fd;
  int linktype;
  int snaplen;
  bool nano;
  tc_batch batch;
  /* statistics */
  double received;
  double dropped;
  double staging_lost;
  tc_ifdrops ifdrops;
  uint64_t ifdrop_refreshed_ms;
  char device[IF_NAMESIZE + 16];
} tc_capture;

static void capture_release(tc_handle *h) {
  tc_capture *c = (tc_capture *)h;
  if (c->pcap) {
    pcap_close(c->pcap);
    c->pcap = NULL;
    c->fd = -1;
  }
  tc_ifdrops_close(&c->ifdrops);
  tc_batch_free(&c->batch);
}

/* Parses the receive "drop" column of `dev` from a /proc/net/dev file. */
bool tc_read_dev_drops(int fd, const char *dev, uint64_t *out) {
  char buf[16384]; /* a namespace's /proc/net/dev: ~130 bytes per device */
  if (lseek(fd, 0, SEEK_SET) < 0) return false;
  size_t len = 0;
  for (;;) {
    ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) break;
    len += (size_t)r;
    if (len >= sizeof buf - 1) break;
  }
  buf[len] = '\0';
  size_t dlen = strlen(dev);
  for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    char *p = line;
    while (*p == ' ') p++;
    if (strncmp(p, dev, dlen) == 0 && p[dlen] == ':') {
      unsigned long long bytes, packets, errs, drop;
      if (sscanf(p + dlen + 1, "%llu %llu %llu %llu", &bytes, &packets, &errs, &drop) == 4) {
        *out = drop;
        return true;
      }
      return false;
    }
  }
  return false;
}

void tc_ifdrops_refresh(tc_ifdrops *d, const char *dev) {
  uint64_t v;
  if (d->fd < 0 || !tc_read_dev_drops(d->fd, dev, &v)) return;
  if (!d->base_set) {
    d->base = v;
    d->base_set = true;
  }
  d->dropped = v >= d->base ? (double)(v - d->base) : 0;
}

void tc_ifdrops_close(tc_ifdrops *d) {
  if (d->fd >= 0) {
    close(d->fd);
    d->fd = -1;
  }
}

/* The kernel's and the device's drop counters. */
static void refresh_stats(tc_capture *c) {
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  memset(&st, 0, sizeof st);
  if (c->fd >= 0 && getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    c->received += st.tp_packets; /* includes the dropped ones */
    c->dropped += st.tp_drops;
  }
  tc_ifdrops_refresh(&c->ifdrops, c->device);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  tc_capture *c = (tc_capture *)user;
  uint32_t *m = tc_batch_add(&c->batch, bytes, h->caplen);
  if (!m) {
    c->staging_lost += 1;
    return;
  }
  uint64_t sec = (uint64_t)h->ts.tv_sec;
  m[1] = (uint32_t)h->caplen;
  m[2] = (uint32_t)h->len;
  m[3] = (uint32_t)(sec & 0xffffffffu);
  m[4] = (uint32_t)(sec >> 32);
  m[5] = c->nano ? (uint32_t)h->ts.tv_usec : (uint32_t)h->ts.tv_usec * 1000u;
}

/* [received, dropped, ifDropped] as reported to JS. */
static void stats_values(const tc_capture *c, double v[3]) {
  v[0] = c->received;
  v[1] = c->dropped + c->staging_lost;
  v[2] = c->ifdrops.dropped;
}

static bool stats_args(tc_capture *c, napi_value *argv) {
  double v[3];
  stats_values(c, v);
  return tc_numbers(c->h.env, v, 3, argv);
}

static void deliver(tc_capture *c) {
  napi_env env = c->h.env;
  size_t count = c->batch.count;
  napi_value argv[5];
  if (!tc_batch_take(env, &c->batch, &argv[0])) {
    c->staging_lost += (double)count;
    return;
  }
  /* The kernel's counters ride along with a batch at most every STATS_REFRESH_MS (a getsockopt per
   * batch was a syscall per relayed reply in intercept); captureStats always reads them fresh. */
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t *)c->h.poll));
  if (now - c->ifdrop_refreshed_ms >= STATS_REFRESH_MS) {
    refresh_stats(c);
    c->ifdrop_refreshed_ms = now;
  }
  if (napi_create_uint32(env, (uint32_t)count, &argv[1]) != napi_ok || !stats_args(c, &argv[2])) return;
  tc_call_js(env, c->h.actx, c->h.cb, 5, argv);
}

static void deliver_error(tc_capture *c, const tc_error *e) {
  napi_env env = c->h.env;
  napi_value argv[6];
  if (napi_get_null(env, &argv[0]) != napi_ok || napi_create_uint32(env, 0, &argv[1]) != napi_ok) return;
  refresh_stats(c);
  if (!stats_args(c, &argv[2])) return;
  argv[5] = tc_make_error(env, e);
  if (!argv[5]) return;
  tc_call_js(env, c->h.actx, c->h.cb, 6, argv);
}

static void capture_on_poll(tc_handle *h, int status) {
  tc_capture *c = (tc_capture *)h;
  if (!c->pcap) return;
  tc_error err;
  bool failed = false;
  /* On POLLERR libuv reports UV_EBADF; pcap_dispatch first, as it reads the socket's real error
   * (e.g. ENETDOWN when the interface or its namespace went away). */
  while (!failed && c->pcap) {
    int n = pcap_dispatch(c->pcap, DISPATCH_MAX, on_packet, (u_char *)c);
    if (n < 0) {
      const char *msg = pcap_geterr(c->pcap);
      const char *code = "EPCAP";
      if (n == PCAP_ERROR_IFACE_NOT_UP || strstr(msg, "went down")) code = "ENETDOWN";
      else if (strstr(msg, "disappeared")) code = "ENODEV"; /* libpcap's words for a deleted interface */
      tc_error_set(&err, code, 0, "capture on '%s' failed: %s", c->device, msg);
      failed = true;
      break;
    }
    if (n == 0) break;
    if (c->batch.data_len >= FLUSH_BYTES || c->batch.count >= FLUSH_PACKETS) deliver(c);
    /* Fewer than asked for: the ring was empty when libpcap stopped. Another call would only find
     * it empty again, at the price of libpcap's poll() on an empty ring; the level-triggered poll
     * handle reports anything that arrived since. Not on a poll error: only that poll() on the
     * empty ring reads the socket's real error (ENETDOWN, a deleted device). */
    if (n < DISPATCH_MAX && status >= 0) break;
  }
  if (c->pcap && c->batch.count > 0) deliver(c);
  if (!failed && status < 0 && c->pcap) {
    tc_error_set(&err, "EPOLL", -status, "capture on '%s' failed: polling reported %s", c->device, uv_strerror(status));
    failed = true;
  }
  if (failed && c->pcap && tc_handle_fail(h)) deliver_error(c, &err);
}

static const tc_handle_ops capture_ops = {
  .name = "capture",
  .expected = "expected a capture handle",
  .resource = "tcpcopy.LiveCapture",
  .release = capture_release,
  .on_poll = capture_on_poll,
};

/* A call's `n` arguments, the first a capture handle. */
static tc_capture *capture_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  return (tc_capture *)tc_handle_args(env, info, n, argv, &capture_ops, usage);
}

static void set_pcap_error(tc_error *e, int rc, pcap_t *p, const char *device, const char *netns) {
  char ns[260];
  tc_netns_suffix(netns, ns, sizeof ns);
  const char *detail = p ? pcap_geterr(p) : "";
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      tc_error_set(e, "ENODEV", ENODEV, "no such network device '%s'%s%s%s", device, ns, detail[0] ? ": " : "",
                   detail);
      break;
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      tc_error_set(e, "EPERM", EPERM, "cannot capture on '%s'%s: permission denied (needs root or CAP_NET_RAW)%s%s",
                   device, ns, detail[0] ? ": " : "", detail);
      break;
    case PCAP_ERROR_IFACE_NOT_UP:
      tc_error_set(e, "ENETDOWN", ENETDOWN, "network device '%s'%s is not up", device, ns);
      break;
    default:
      tc_error_set(e, "EPCAP", 0, "cannot capture on '%s'%s: %s (%s)", device, ns, pcap_statustostr(rc), detail);
  }
}

/* captureOpen({device, filter, snaplen, bufferBytes, timeoutMs, promisc, netns}, onBatch)
 *   -> { handle, linkType, snaplen, nano } */
static napi_value capture_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!tc_open_args(env, info, argv, "captureOpen(options, onBatch)")) return NULL;

  char device[IF_NAMESIZE + 16], netns[256];
  char filter[8192];
  int64_t snaplen, bufbytes, timeout;
  bool promisc;
  if (!tc_prop_string(env, argv[0], "device", device, sizeof device, false) ||
      !tc_prop_string(env, argv[0], "filter", filter, sizeof filter, true) ||
      !tc_prop_string(env, argv[0], "netns", netns, sizeof netns, true) ||
      !tc_prop_int(env, argv[0], "snaplen", 1, 262144, 65535, &snaplen) ||
      !tc_prop_int(env, argv[0], "bufferBytes", 65536, (int64_t)1 << 30, 16 << 20, &bufbytes) ||
      !tc_prop_int(env, argv[0], "timeoutMs", 0, 10000, 1, &timeout) ||
      !tc_prop_bool(env, argv[0], "promisc", false, &promisc))
    return NULL;
  if (!device[0]) return tc_throw_type(env, "option 'device' must not be empty");

  tc_error e;
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  tc_netns_guard g;
  if (!tc_netns_enter(netns, &g, &e)) return tc_throw(env, &e);
  pcap_t *p = pcap_create(device, errbuf);
  int procdev_fd = -1;
  bool ok = p != NULL;
  if (!p) tc_error_set(&e, "EPCAP", 0, "pcap_create('%s') failed: %s", device, errbuf);
  if (ok) {
    pcap_set_snaplen(p, (int)snaplen);
    pcap_set_promisc(p, promisc ? 1 : 0);
    pcap_set_buffer_size(p, (int)bufbytes);
    if (timeout == 0) {
      pcap_set_immediate_mode(p, 1);
    } else {
      pcap_set_timeout(p, (int)timeout);
    }
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(p);
    if (rc < 0) {
      set_pcap_error(&e, rc, p, device, netns);
      ok = false;
    } else if (strcmp(device, "any") != 0) {
      /* bound to this thread's (= the capture's) namespace at open time */
      procdev_fd = open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC);
    }
  }
  tc_netns_leave(&g);
  if (ok && pcap_setnonblock(p, 1, errbuf) < 0) {
    tc_error_set(&e, "EPCAP", 0, "cannot make capture on '%s' nonblocking: %s", device, errbuf);
    ok = false;
  }
  if (ok && filter[0]) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
      tc_error_set(&e, "EBADFILTER", 0, "bad capture filter \"%s\": %s", filter, pcap_geterr(p));
      ok = false;
    } else {
      if (pcap_setfilter(p, &prog) < 0) {
        tc_error_set(&e, "EBADFILTER", 0, "cannot install capture filter \"%s\": %s", filter, pcap_geterr(p));
        ok = false;
      }
      pcap_freecode(&prog);
    }
  }
  int fd = ok ? pcap_get_selectable_fd(p) : -1;
  if (ok && fd < 0) {
    tc_error_set(&e, "EPCAP", 0, "capture on '%s' has no selectable descriptor", device);
    ok = false;
  }
  if (!ok) {
    if (p) pcap_close(p);
    if (procdev_fd >= 0) close(procdev_fd);
    return tc_throw(env, &e);
  }

  tc_capture *c = calloc(1, sizeof *c);
  if (!c) {
    pcap_close(p);
    if (procdev_fd >= 0) close(procdev_fd);
    tc_error_errno(&e, ENOMEM, "captureOpen", NULL);
    return tc_throw(env, &e);
  }
  c->pcap = p;
  c->fd = fd;
  c->ifdrops.fd = procdev_fd;
  c->batch.words = META_WORDS;
  c->linktype = pcap_datalink(p);
  c->snaplen = pcap_snapshot(p);
  c->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  snprintf(c->device, sizeof c->device, "%s", device);
  tc_ifdrops_refresh(&c->ifdrops, c->device);

  napi_value handle = tc_handle_wrap(env, &c->h, &capture_ops);
  if (!handle) return NULL;
  char what[sizeof device + 16];
  snprintf(what, sizeof what, "capture on '%s'", device);
  if (!tc_handle_poll(env, &c->h, handle, fd, argv[1], what)) return NULL;

  napi_value result;
  if (!tc_ok(env, napi_create_object(env, &result), "object") || !tc_set_prop(env, result, "handle", handle) ||
      !tc_set_prop_int(env, result, "linkType", c->linktype) || !tc_set_prop_int(env, result, "snaplen", c->snaplen) ||
      !tc_set_prop_bool(env, result, "nano", c->nano))
    return NULL;
  return result;
}

/* captureClose(handle): stops polling and frees everything; safe to call twice. */
static napi_value capture_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_capture *c = capture_args(env, info, 1, argv, "captureClose(handle)");
  if (!c) return NULL;
  if (c->pcap) refresh_stats(c);
  tc_handle_close(env, &c->h);
  return NULL;
}

/* captureStats(handle) -> [received, dropped, ifDropped] (cumulative since open). */
static napi_value capture_stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_capture *c = capture_args(env, info, 1, argv, "captureStats(handle)");
  if (!c) return NULL;
  if (c->pcap) refresh_stats(c);
  double vals[3];
  stats_values(c, vals);
  return tc_number_array(env, vals, 3);
}

/* captureSetRef(handle, ref): whether the open capture keeps the event loop alive. */
static napi_value capture_set_ref(napi_env env, napi_callback_info info) {
  return tc_handle_set_ref(env, info, &capture_ops, "captureSetRef(handle, ref)");
}

/* compileFilter(linkType, snaplen, filter) -> instruction count; throws EBADFILTER. No privileges. */
static napi_value compile_filter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  char filter[8192];
  int64_t linktype, snaplen;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < 3) return tc_throw_type(env, "compileFilter(linkType, snaplen, filter)");
  if (!tc_get_int(env, argv[0], 0, 65535, "linkType", &linktype) ||
      !tc_get_int(env, argv[1], 1, 262144, "snaplen", &snaplen) ||
      !tc_get_string(env, argv[2], filter, sizeof filter, "filter"))
    return NULL;
  pcap_t *p = pcap_open_dead((int)linktype, (int)snaplen);
  tc_error e;
  if (!p) {
    tc_error_set(&e, "EPCAP", 0, "pcap_open_dead(%d) failed", (int)linktype);
    return tc_throw(env, &e);
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
    tc_error_set(&e, "EBADFILTER", 0, "bad capture filter \"%s\": %s", filter, pcap_geterr(p));
    pcap_close(p);
    return tc_throw(env, &e);
  }
  uint32_t n = prog.bf_len;
  pcap_freecode(&prog);
  pcap_close(p);
  if (!tc_ok(env, napi_create_uint32(env, n, &out), "number")) return NULL;
  return out;
}

static napi_value lib_version(napi_env env, napi_callback_info info) {
  napi_value out;
  if (!tc_ok(env, napi_create_string_utf8(env, pcap_lib_version(), NAPI_AUTO_LENGTH, &out), "string")) return NULL;
  return out;
}

napi_status tc_capture_init(napi_env env, napi_value exports) {
  napi_value n;
  bool ok = tc_export(env, exports, "captureOpen", capture_open) &&
            tc_export(env, exports, "captureClose", capture_close) &&
            tc_export(env, exports, "captureStats", capture_stats) &&
            tc_export(env, exports, "captureSetRef", capture_set_ref) &&
            tc_export(env, exports, "compileFilter", compile_filter) &&
            tc_export(env, exports, "pcapVersion", lib_version) && napi_create_uint32(env, META_WORDS, &n) == napi_ok &&
            napi_set_named_property(env, exports, "CAPTURE_META_WORDS", n) == napi_ok;
  return ok ? napi_ok : napi_generic_failure;
}

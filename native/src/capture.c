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

#define CAPTURE_MAGIC 0x74634361u /* "tcCa" */
#define META_WORDS 6
#define DISPATCH_MAX 1024          /* packets per pcap_dispatch call: bounds staging growth */
#define FLUSH_BYTES (1u << 20)     /* deliver early when the staged bytes exceed this */
#define FLUSH_PACKETS 16384u
#define STATS_REFRESH_MS 200      /* kernel and interface drop counters passed with batches at most this often */

typedef struct tc_capture {
  uint32_t magic;
  napi_env env;
  pcap_t *pcap;
  int fd;
  uv_poll_t *poll;
  bool polling;
  bool hook_added;
  bool failed;
  napi_ref self; /* strong while open: the capture lives until close() */
  napi_ref cb;
  napi_async_context actx;
  int linktype;
  int snaplen;
  bool nano;
  /* staging */
  uint32_t *meta;
  size_t meta_cap; /* packets */
  size_t count;
  uint8_t *data;
  size_t data_cap;
  size_t data_len;
  /* statistics */
  double received;
  double dropped;
  double staging_lost;
  double ifdropped;
  int procdev_fd;
  bool ifdrop_base_set;
  uint64_t ifdrop_base;
  uint64_t ifdrop_refreshed_ms;
  char device[IF_NAMESIZE + 16];
} tc_capture;

/* Releases the native resources (idempotent, no JS calls). */
static void capture_release_native(tc_capture *c) {
  tc_poll_dispose(&c->poll, &c->polling);
  if (c->pcap) {
    pcap_close(c->pcap);
    c->pcap = NULL;
    c->fd = -1;
  }
  if (c->procdev_fd >= 0) {
    close(c->procdev_fd);
    c->procdev_fd = -1;
  }
  free(c->meta);
  c->meta = NULL;
  c->meta_cap = 0;
  c->count = 0;
  free(c->data);
  c->data = NULL;
  c->data_cap = 0;
  c->data_len = 0;
}

static void capture_env_cleanup(void *arg) {
  tc_capture *c = arg;
  c->hook_added = false; /* hooks are removed once they ran */
  capture_release_native(c);
}

static void capture_finalize(napi_env env, void *data, void *hint) {
  tc_capture *c = data;
  if (c->hook_added) {
    napi_remove_env_cleanup_hook(env, capture_env_cleanup, c);
    c->hook_added = false;
  }
  capture_release_native(c);
  c->magic = 0;
  free(c);
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

static void refresh_ifdrop(tc_capture *c) {
  uint64_t v;
  if (c->procdev_fd < 0 || !tc_read_dev_drops(c->procdev_fd, c->device, &v)) return;
  if (!c->ifdrop_base_set) {
    c->ifdrop_base = v;
    c->ifdrop_base_set = true;
  }
  c->ifdropped = v >= c->ifdrop_base ? (double)(v - c->ifdrop_base) : 0;
}

static void refresh_kernel_stats(tc_capture *c) {
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  memset(&st, 0, sizeof st);
  if (c->fd >= 0 && getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    c->received += st.tp_packets; /* includes the dropped ones */
    c->dropped += st.tp_drops;
  }
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  tc_capture *c = (tc_capture *)user;
  if (c->count == c->meta_cap) {
    size_t ncap = c->meta_cap ? c->meta_cap * 2 : 1024;
    uint32_t *m = realloc(c->meta, ncap * META_WORDS * sizeof(uint32_t));
    if (!m) {
      c->staging_lost += 1;
      return;
    }
    c->meta = m;
    c->meta_cap = ncap;
  }
  size_t caplen = h->caplen;
  if (c->data_len + caplen > c->data_cap) {
    size_t ncap = c->data_cap ? c->data_cap : (256u << 10);
    while (ncap < c->data_len + caplen) ncap *= 2;
    uint8_t *d = realloc(c->data, ncap);
    if (!d) {
      c->staging_lost += 1;
      return;
    }
    c->data = d;
    c->data_cap = ncap;
  }
  memcpy(c->data + c->data_len, bytes, caplen);
  uint32_t *m = c->meta + c->count * META_WORDS;
  uint64_t sec = (uint64_t)h->ts.tv_sec;
  m[0] = (uint32_t)c->data_len;
  m[1] = (uint32_t)caplen;
  m[2] = (uint32_t)h->len;
  m[3] = (uint32_t)(sec & 0xffffffffu);
  m[4] = (uint32_t)(sec >> 32);
  m[5] = c->nano ? (uint32_t)h->ts.tv_usec : (uint32_t)h->ts.tv_usec * 1000u;
  c->data_len += caplen;
  c->count++;
}

/* Calls the JS callback; an exception thrown there becomes an uncaught exception. */
static void call_js(tc_capture *c, size_t argc, napi_value *argv) {
  tc_call_js(c->env, c->actx, c->cb, argc, argv);
}

/* [received, dropped, ifDropped] as reported to JS. */
static void stats_values(const tc_capture *c, double v[3]) {
  v[0] = c->received;
  v[1] = c->dropped + c->staging_lost;
  v[2] = c->ifdropped;
}

static bool stats_args(tc_capture *c, napi_value *argv) {
  double v[3];
  stats_values(c, v);
  for (int i = 0; i < 3; i++) {
    if (napi_create_double(c->env, v[i], &argv[i]) != napi_ok) return false;
  }
  return true;
}

static void deliver(tc_capture *c) {
  napi_env env = c->env;
  size_t count = c->count;
  size_t meta_bytes = count * META_WORDS * sizeof(uint32_t);
  size_t total = meta_bytes + c->data_len;
  void *p = NULL;
  napi_value argv[5];
  c->count = 0;
  c->data_len = 0;
  if (napi_create_buffer(env, total, &p, &argv[0]) != napi_ok) {
    c->staging_lost += (double)count;
    return;
  }
  memcpy(p, c->meta, meta_bytes);
  memcpy((uint8_t *)p + meta_bytes, c->data, total - meta_bytes);
  /* The kernel's counters ride along with a batch at most every STATS_REFRESH_MS (a getsockopt per
   * batch was a syscall per relayed reply in intercept); captureStats always reads them fresh. */
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t *)c->poll));
  if (now - c->ifdrop_refreshed_ms >= STATS_REFRESH_MS) {
    refresh_kernel_stats(c);
    refresh_ifdrop(c);
    c->ifdrop_refreshed_ms = now;
  }
  if (napi_create_uint32(env, (uint32_t)count, &argv[1]) != napi_ok || !stats_args(c, &argv[2])) return;
  call_js(c, 5, argv);
}

static void deliver_error(tc_capture *c, const tc_error *e) {
  napi_value argv[6];
  if (napi_get_null(c->env, &argv[0]) != napi_ok || napi_create_uint32(c->env, 0, &argv[1]) != napi_ok) return;
  refresh_kernel_stats(c);
  refresh_ifdrop(c);
  if (!stats_args(c, &argv[2])) return;
  argv[5] = tc_make_error(c->env, e);
  if (!argv[5]) return;
  call_js(c, 6, argv);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  tc_capture *c = h->data;
  if (!c || !c->pcap) return;
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self; /* keeps the capture object alive while JS runs inside this callback */
  if (c->self) napi_get_reference_value(env, c->self, &self);
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
    if (c->data_len >= FLUSH_BYTES || c->count >= FLUSH_PACKETS) deliver(c);
    /* Fewer than asked for: the ring was empty when libpcap stopped. Another call would only find
     * it empty again, at the price of libpcap's poll() on an empty ring; the level-triggered poll
     * handle reports anything that arrived since. Not on a poll error: only that poll() on the
     * empty ring reads the socket's real error (ENETDOWN, a deleted device). */
    if (n < DISPATCH_MAX && status >= 0) break;
  }
  if (c->pcap && c->count > 0) deliver(c);
  if (!failed && status < 0 && c->pcap) {
    tc_error_set(&err, "EPOLL", -status, "capture on '%s' failed: polling reported %s", c->device, uv_strerror(status));
    failed = true;
  }
  if (failed && c->pcap && !c->failed) {
    c->failed = true;
    if (c->polling) {
      uv_poll_stop(c->poll);
      c->polling = false;
    }
    deliver_error(c, &err);
  }
  napi_close_handle_scope(env, scope);
}

static tc_capture *get_capture(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p || ((tc_capture *)p)->magic != CAPTURE_MAGIC) {
    tc_throw_type(env, "expected a capture handle");
    return NULL;
  }
  return p;
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
  size_t argc = 2;
  napi_value argv[2];
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (t0 != napi_object || t1 != napi_function) return tc_throw_type(env, "captureOpen(options, onBatch)");

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
  c->magic = CAPTURE_MAGIC;
  c->env = env;
  c->pcap = p;
  c->fd = fd;
  c->procdev_fd = procdev_fd;
  c->linktype = pcap_datalink(p);
  c->snaplen = pcap_snapshot(p);
  c->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  snprintf(c->device, sizeof c->device, "%s", device);
  refresh_ifdrop(c);

  napi_value handle, result, resource, name;
  if (napi_create_external(env, c, capture_finalize, NULL, &handle) != napi_ok) {
    capture_release_native(c);
    free(c);
    return tc_throw_type(env, "cannot create capture handle");
  }
  /* From here the finalizer owns c; until the references below exist, GC may collect it. */
  uv_loop_t *loop = NULL;
  if (!tc_ok(env, napi_get_uv_event_loop(env, &loop), "event loop")) {
    capture_release_native(c);
    return NULL;
  }
  c->poll = malloc(sizeof *c->poll);
  int rc = c->poll ? uv_poll_init(loop, c->poll, fd) : UV_ENOMEM;
  if (rc != 0) {
    free(c->poll);
    c->poll = NULL;
    capture_release_native(c);
    tc_error_set(&e, "EPOLL", -rc, "cannot poll capture on '%s': %s", device, uv_strerror(rc));
    return tc_throw(env, &e);
  }
  c->poll->data = c;
  if (!tc_ok(env, napi_create_object(env, &resource), "object") ||
      !tc_ok(env, napi_create_string_utf8(env, "tcpcopy.LiveCapture", NAPI_AUTO_LENGTH, &name), "string") ||
      !tc_ok(env, napi_async_init(env, resource, name, &c->actx), "async init") ||
      !tc_ok(env, napi_create_reference(env, argv[1], 1, &c->cb), "reference")) {
    capture_release_native(c);
    return NULL;
  }
  rc = uv_poll_start(c->poll, UV_READABLE, on_poll);
  if (rc != 0) {
    capture_release_native(c);
    tc_error_set(&e, "EPOLL", -rc, "cannot poll capture on '%s': %s", device, uv_strerror(rc));
    return tc_throw(env, &e);
  }
  c->polling = true;
  if (!tc_ok(env, napi_create_reference(env, handle, 1, &c->self), "reference")) {
    capture_release_native(c);
    return NULL;
  }
  if (napi_add_env_cleanup_hook(env, capture_env_cleanup, c) == napi_ok) c->hook_added = true;

  if (!tc_ok(env, napi_create_object(env, &result), "object") || !tc_set_prop(env, result, "handle", handle) ||
      !tc_set_prop_int(env, result, "linkType", c->linktype) || !tc_set_prop_int(env, result, "snaplen", c->snaplen) ||
      !tc_set_prop_bool(env, result, "nano", c->nano))
    return NULL;
  return result;
}

/* captureClose(handle): stops polling and frees everything; safe to call twice. */
static napi_value capture_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < 1) return tc_throw_type(env, "captureClose(handle)");
  tc_capture *c = get_capture(env, argv[0]);
  if (!c) return NULL;
  if (c->pcap) {
    refresh_kernel_stats(c);
    refresh_ifdrop(c);
  }
  if (c->hook_added) {
    napi_remove_env_cleanup_hook(env, capture_env_cleanup, c);
    c->hook_added = false;
  }
  capture_release_native(c);
  if (c->actx) {
    napi_async_destroy(env, c->actx);
    c->actx = NULL;
  }
  if (c->cb) {
    napi_delete_reference(env, c->cb);
    c->cb = NULL;
  }
  if (c->self) {
    napi_delete_reference(env, c->self);
    c->self = NULL;
  }
  return NULL;
}

/* captureStats(handle) -> [received, dropped, ifDropped] (cumulative since open). */
static napi_value capture_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < 1) return tc_throw_type(env, "captureStats(handle)");
  tc_capture *c = get_capture(env, argv[0]);
  if (!c) return NULL;
  if (c->pcap) {
    refresh_kernel_stats(c);
    refresh_ifdrop(c);
  }
  double vals[3];
  stats_values(c, vals);
  return tc_number_array(env, vals, 3);
}

/* captureSetRef(handle, ref): whether the open capture keeps the event loop alive. */
static napi_value capture_set_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool ref = true;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < 2) return tc_throw_type(env, "captureSetRef(handle, ref)");
  tc_capture *c = get_capture(env, argv[0]);
  if (!c || !tc_ok(env, napi_get_value_bool(env, argv[1], &ref), "ref flag")) return NULL;
  tc_poll_set_ref(c->poll, ref);
  return NULL;
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

/* Send sockets shared by raw IP send and data-link inject: a JS handle around a nonblocking fd,
 * batch send with sendmmsg reporting a per-packet outcome, and a one-shot "writable" wait via
 * uv_poll for the TS retry queue.
 *   socketSend(handle, packets: Buffer[], start, count, results: Int32Array) -> sent
 *   socketSendPacked(handle, buffer, lengths: Uint32Array, count, results) -> sent  (packets back to back)
 *     results[k] (for packets[start + k]): 0 sent, > 0 errno of a failed packet, -1 not attempted
 *     (sending stops at the first EAGAIN/ENOBUFS so the caller can queue the rest).
 *   socketWaitWritable(handle, cb)  cb() once when the socket is writable (or failed: cb(error))
 *   socketClose(handle)             idempotent
 *   socketInfo(handle) -> { kind, fd, sndbuf } */
#include "common.h"
#include "handle.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define CHUNK 64

/* A send socket polls only while a writable wait is pending (h.polling): then h.cb is the wait's
 * callback, h.actx its async context, and h.self keeps the socket alive. */
typedef struct tc_sock {
  tc_handle h; /* first (handle.h) */
  int fd;
  int kind;
  int ifindex;
} tc_sock;

static void sock_release(tc_handle *h) {
  tc_sock *s = (tc_sock *)h;
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

static const tc_handle_ops sock_ops = {
  .name = "socket",
  .expected = "expected a socket handle",
  .release = sock_release,
};

int tc_sock_sndbuf(int fd, int bytes) {
  if (bytes > 0) {
    /* SO_SNDBUFFORCE (CAP_NET_ADMIN) ignores net.core.wmem_max; SO_SNDBUF is capped by it. */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    }
  }
  int v = 0;
  socklen_t len = sizeof v;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len);
  return v;
}

napi_value tc_sock_wrap(napi_env env, int fd, int kind, int ifindex) {
  tc_sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    tc_error e;
    tc_error_errno(&e, ENOMEM, "socket handle", NULL);
    return tc_throw(env, &e);
  }
  s->fd = fd;
  s->kind = kind;
  s->ifindex = ifindex;
  return tc_handle_wrap(env, &s->h, &sock_ops);
}

/* A call's `n` arguments, the first a socket handle. */
static tc_sock *sock_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  return (tc_sock *)tc_handle_args(env, info, n, argv, &sock_ops, usage);
}

/* Throws ECLOSED when the socket is closed. */
static bool sock_open(napi_env env, const tc_sock *s, const char *what) {
  if (s->fd >= 0) return true;
  tc_error e;
  tc_error_set(&e, "ECLOSED", EBADF, "%s on a closed socket", what);
  tc_throw(env, &e);
  return false;
}

typedef struct {
  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } addr[CHUNK];
} send_chunk;

/* Checks one packet and fills its message; returns 0 or the errno that rejects it. */
static int prepare(const tc_sock *s, send_chunk *ch, int m, const uint8_t *data, size_t len) {
  struct msghdr *h = &ch->msgs[m].msg_hdr;
  memset(h, 0, sizeof *h);
  ch->iov[m].iov_base = (void *)data;
  ch->iov[m].iov_len = len;
  h->msg_iov = &ch->iov[m];
  h->msg_iovlen = 1;
  switch (s->kind) {
    case TC_SOCK_RAW4: {
      if (len < 20 || (data[0] >> 4) != 4 || (data[0] & 0x0f) < 5 || (size_t)(data[0] & 0x0f) * 4 > len) return EINVAL;
      struct sockaddr_in *a = &ch->addr[m].v4;
      memset(a, 0, sizeof *a);
      a->sin_family = AF_INET;
      memcpy(&a->sin_addr, data + 16, 4);
      h->msg_name = a;
      h->msg_namelen = sizeof *a;
      return 0;
    }
    case TC_SOCK_RAW6: {
      if (len < 40 || (data[0] >> 4) != 6) return EINVAL;
      struct sockaddr_in6 *a = &ch->addr[m].v6;
      memset(a, 0, sizeof *a);
      a->sin6_family = AF_INET6;
      memcpy(&a->sin6_addr, data + 24, 16);
      h->msg_name = a;
      h->msg_namelen = sizeof *a;
      return 0;
    }
    default: /* data link: the socket is bound to its interface */
      if (len < 14) return EINVAL;
      return 0;
  }
}

static bool packet_at(napi_env env, napi_value arr, uint32_t idx, const uint8_t **data, size_t *len) {
  napi_value v;
  void *p = NULL;
  if (napi_get_element(env, arr, idx, &v) != napi_ok) return false;
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) return false;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return false;
  *data = p;
  return true;
}

/* Where send_loop takes packet `idx` from. */
typedef bool (*packet_getter)(void *ctx, uint32_t idx, const uint8_t **data, size_t *len);

typedef struct {
  napi_env env;
  napi_value arr;
  uint32_t start;
} array_ctx;

static bool array_packet(void *p, uint32_t idx, const uint8_t **data, size_t *len) {
  array_ctx *c = p;
  return packet_at(c->env, c->arr, c->start + idx, data, len);
}

/* Packets back to back. send_loop asks again for a packet after a partial sendmmsg, so an index
 * below the cursor walks again from the start (rare: only after a failed or blocked send). */
typedef struct {
  const uint8_t *base;
  const uint32_t *lengths;
  uint32_t next;
  size_t off;
} packed_ctx;

static bool packed_packet(void *p, uint32_t idx, const uint8_t **data, size_t *len) {
  packed_ctx *c = p;
  if (idx < c->next) {
    c->next = 0;
    c->off = 0;
  }
  while (c->next < idx) c->off += c->lengths[c->next++];
  *data = c->base + c->off;
  *len = c->lengths[idx];
  return true;
}

/* sendmmsg in chunks of CHUNK; results[k]: 0 sent, errno, or -1 not attempted (after EAGAIN/ENOBUFS).
 * False only when memory for the chunk could not be had. */
static bool send_loop(const tc_sock *s, int32_t *results, uint32_t n, packet_getter get, void *ctx, uint32_t *sent_out) {
  send_chunk *ch = malloc(sizeof *ch);
  if (!ch) return false;
  uint32_t i = 0, sent = 0;
  while (i < n) {
    int m = 0, reject = 0;
    while (m < CHUNK && i + (uint32_t)m < n) {
      const uint8_t *data;
      size_t len;
      if (!get(ctx, i + (uint32_t)m, &data, &len)) {
        reject = EINVAL;
        break;
      }
      reject = prepare(s, ch, m, data, len);
      if (reject) break;
      m++;
    }
    if (m == 0) {
      results[i++] = reject; /* a packet we can't send at all */
      continue;
    }
    int r = sendmmsg(s->fd, ch->msgs, (unsigned)m, MSG_DONTWAIT);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      results[i++] = err;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
        while (i < n) results[i++] = -1;
        break;
      }
      continue; /* this packet failed for good (EMSGSIZE, EPERM, ...): go on with the next */
    }
    for (int k = 0; k < r; k++) results[i++] = 0;
    sent += (uint32_t)r;
    /* r < m: the next packet failed; the retry at it reports its errno */
  }
  free(ch);
  *sent_out = sent;
  return true;
}

/* Whether `v` is a typed array of `type`; its data and length. */
static bool typed_array(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type tt;
  return napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
         napi_get_typedarray_info(env, v, &tt, len, data, NULL, NULL) == napi_ok && tt == type;
}

/* The results argument of a send: an Int32Array with room for `count` outcomes; throws otherwise. */
static bool results_arg(napi_env env, napi_value v, int64_t count, int32_t **results) {
  void *data = NULL;
  size_t len = 0;
  if (!typed_array(env, v, napi_int32_array, &data, &len) || len < (size_t)count) {
    tc_throw_type(env, "results must be an Int32Array with room for every packet");
    return false;
  }
  *results = data;
  return true;
}

/* Sends on the socket unless it is closed (ECLOSED) and returns how many packets went out. */
static napi_value send_counted(napi_env env, const tc_sock *s, int32_t *results, uint32_t n, packet_getter get, void *ctx,
                               const char *what) {
  napi_value out;
  uint32_t sent = 0;
  if (!sock_open(env, s, "send")) return NULL;
  if (!send_loop(s, results, n, get, ctx, &sent)) {
    tc_error e;
    tc_error_errno(&e, ENOMEM, what, NULL);
    return tc_throw(env, &e);
  }
  if (!tc_ok(env, napi_create_uint32(env, sent, &out), "number")) return NULL;
  return out;
}

static napi_value sock_send(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  tc_sock *s = sock_args(env, info, 5, argv, "socketSend(handle, packets, start, count, results)");
  if (!s) return NULL;
  bool is_arr = false;
  uint32_t arr_len = 0;
  if (napi_is_array(env, argv[1], &is_arr) != napi_ok || !is_arr) return tc_throw_type(env, "packets must be an array");
  if (!tc_ok(env, napi_get_array_length(env, argv[1], &arr_len), "array length")) return NULL;
  int64_t start, count;
  if (!tc_get_int(env, argv[2], 0, arr_len, "start", &start) ||
      !tc_get_int(env, argv[3], 0, (int64_t)arr_len - start, "count", &count))
    return NULL;
  int32_t *results;
  if (!results_arg(env, argv[4], count, &results)) return NULL;
  array_ctx ctx = { env, argv[1], (uint32_t)start };
  return send_counted(env, s, results, (uint32_t)count, array_packet, &ctx, "socketSend");
}

/* socketSendPacked(handle, buffer, lengths: Uint32Array, count, results: Int32Array) -> sent
 * The packets lie back to back in `buffer` (lengths[k] bytes each, from offset 0): one JS object for a
 * whole turn's packets. Same per-packet results as socketSend. */
static napi_value sock_send_packed(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  tc_sock *s = sock_args(env, info, 5, argv, "socketSendPacked(handle, buffer, lengths, count, results)");
  if (!s) return NULL;
  bool is_buf = false;
  void *bdata = NULL;
  size_t blen = 0;
  if (napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, argv[1], &bdata, &blen) != napi_ok)
    return tc_throw_type(env, "buffer must be a Buffer");
  size_t llen = 0;
  void *ldata = NULL;
  if (!typed_array(env, argv[2], napi_uint32_array, &ldata, &llen)) return tc_throw_type(env, "lengths must be a Uint32Array");
  int64_t count;
  int32_t *results;
  if (!tc_get_int(env, argv[3], 0, (int64_t)llen, "count", &count) || !results_arg(env, argv[4], count, &results))
    return NULL;
  const uint32_t *lengths = ldata;
  uint64_t total = 0;
  for (int64_t k = 0; k < count; k++) total += lengths[k];
  if (total > blen) return tc_throw_type(env, "the lengths add up to more than the buffer holds");
  packed_ctx ctx = { bdata, lengths, 0, 0 };
  return send_counted(env, s, results, (uint32_t)count, packed_packet, &ctx, "socketSendPacked");
}

static void on_writable(uv_poll_t *p, int status, int events) {
  tc_handle *h = p->data;
  if (!h || !h->polling) return;
  napi_env env = h->env;
  uv_poll_stop(p);
  h->polling = false;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self = NULL, fn = NULL, argv[1];
  size_t argc = 0;
  if (h->self) napi_get_reference_value(env, h->self, &self);
  if (h->cb) napi_get_reference_value(env, h->cb, &fn);
  napi_async_context actx = h->actx;
  if (h->cb) napi_delete_reference(env, h->cb);
  h->cb = NULL;
  if (h->self) napi_delete_reference(env, h->self);
  h->self = NULL;
  h->actx = NULL;
  if (status < 0) {
    tc_error e;
    tc_error_set(&e, "EPOLL", -status, "waiting for a writable socket failed: %s", uv_strerror(status));
    argv[0] = tc_make_error(env, &e);
    argc = argv[0] ? 1 : 0;
  }
  if (fn) tc_call_fn(env, actx, fn, argc, argv);
  if (actx) napi_async_destroy(env, actx);
  (void)self;
  napi_close_handle_scope(env, scope);
}

static napi_value sock_wait_writable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], resource, name;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (t != napi_function) return tc_throw_type(env, "socketWaitWritable(handle, cb)");
  tc_sock *s = (tc_sock *)tc_handle_get(env, argv[0], &sock_ops);
  if (!s || !sock_open(env, s, "wait")) return NULL;
  tc_handle *h = &s->h;
  tc_error e;
  if (h->polling) {
    tc_error_set(&e, "EBUSY", EBUSY, "a writable wait is already pending on this socket");
    return tc_throw(env, &e);
  }
  if (!h->poll && !tc_handle_poll_init(env, h, s->fd, "socket")) return NULL;
  if (!tc_ok(env, napi_create_object(env, &resource), "object") ||
      !tc_ok(env, napi_create_string_utf8(env, "tcpcopy.SendWait", NAPI_AUTO_LENGTH, &name), "string") ||
      !tc_ok(env, napi_async_init(env, resource, name, &h->actx), "async init"))
    return NULL;
  int rc = uv_poll_start(h->poll, UV_WRITABLE, on_writable);
  if (rc != 0) {
    napi_async_destroy(env, h->actx);
    h->actx = NULL;
    tc_error_set(&e, "EPOLL", -rc, "cannot poll socket: %s", uv_strerror(rc));
    return tc_throw(env, &e);
  }
  h->polling = true;
  napi_create_reference(env, argv[1], 1, &h->cb);
  napi_create_reference(env, argv[0], 1, &h->self);
  return NULL;
}

/* A pending writable wait is dropped without a call. */
static napi_value sock_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  tc_sock *s = sock_args(env, info, 1, argv, "socketClose(handle)");
  if (!s) return NULL;
  tc_handle_close(env, &s->h);
  return NULL;
}

static napi_value sock_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  tc_sock *s = sock_args(env, info, 1, argv, "socketInfo(handle)");
  if (!s) return NULL;
  int sndbuf = 0;
  socklen_t len = sizeof sndbuf;
  if (s->fd >= 0) getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
  if (!tc_ok(env, napi_create_object(env, &out), "object") || !tc_set_prop_int(env, out, "kind", s->kind) ||
      !tc_set_prop_int(env, out, "fd", s->fd) || !tc_set_prop_int(env, out, "sndbuf", sndbuf) ||
      !tc_set_prop_int(env, out, "ifindex", s->ifindex))
    return NULL;
  return out;
}

napi_status tc_sock_init(napi_env env, napi_value exports) {
  bool ok = tc_export(env, exports, "socketSend", sock_send) &&
            tc_export(env, exports, "socketSendPacked", sock_send_packed) &&
            tc_export(env, exports, "socketWaitWritable", sock_wait_writable) &&
            tc_export(env, exports, "socketClose", sock_close) && tc_export(env, exports, "socketInfo", sock_info);
  return ok ? napi_ok : napi_generic_failure;
}

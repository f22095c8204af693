/* Shared declarations of the tcpcopy_native addon: error values that name their cause,
 * argument helpers, the network-namespace guard and the per-module init functions. */
#ifndef TC_COMMON_H
#define TC_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An error ready to be thrown as a JS Error with `code` (and `errno` when non-zero). */
typedef struct {
  const char *code; /* static string: "EPERM", "ENODEV", "EBADFILTER", "ENETNS", ... */
  int errnum;       /* errno value or 0 */
  char msg[768];
} tc_error;

void tc_error_set(tc_error *e, const char *code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets code from errno (EPERM, ENODEV, ...); `what` says what failed ("open raw IPv4 socket"). */
void tc_error_errno(tc_error *e, int errnum, const char *what, const char *hint);
const char *tc_errno_code(int errnum);
/* Throws e as a JS Error; always returns NULL so callers can `return tc_throw(...)`. */
napi_value tc_throw(napi_env env, const tc_error *e);
napi_value tc_make_error(napi_env env, const tc_error *e);
napi_value tc_throw_type(napi_env env, const char *msg);

/* Throws (TypeError on misuse) and returns false when `status` is not napi_ok. */
bool tc_ok(napi_env env, napi_status status, const char *what);

/* Argument helpers. They throw a TypeError and return false on a wrong type. */
bool tc_get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *what);
/* Reads obj[key] as a string; missing/undefined/null gives "" when optional. */
bool tc_prop_string(napi_env env, napi_value obj, const char *key, char *buf, size_t cap, bool optional);
bool tc_prop_int(napi_env env, napi_value obj, const char *key, int64_t min, int64_t max, int64_t def,
                 int64_t *out);
bool tc_prop_bool(napi_env env, napi_value obj, const char *key, bool def, bool *out);
bool tc_get_int(napi_env env, napi_value v, int64_t min, int64_t max, const char *what, int64_t *out);

/* Network namespaces: enter /run/netns/<name> on the calling thread, and always come back. */
typedef struct {
  int saved_fd; /* -1 when no switch happened */
} tc_netns_guard;
bool tc_netns_enter(const char *name, tc_netns_guard *g, tc_error *e);
void tc_netns_leave(tc_netns_guard *g);
/* Formats " in netns 'x'" (or "") for messages. */
const char *tc_netns_suffix(const char *name, char *buf, size_t cap);

napi_status tc_capture_init(napi_env env, napi_value exports);
napi_status tc_rxsock_init(napi_env env, napi_value exports);

/* Parses the receive "drop" column of `dev` from an open /proc/<tid>/net/dev (capture.c). */
bool tc_read_dev_drops(int fd, const char *dev, uint64_t *out);
/* A JS array of `n` numbers (statistics); throws and returns NULL on failure (util.c). */
napi_value tc_number_array(napi_env env, const double *vals, uint32_t n);
/* Calls the function behind `cb` (if set) in async context `actx`; an exception it throws becomes an
 * uncaught exception of the process (util.c). */
void tc_call_js(napi_env env, napi_async_context actx, napi_ref cb, size_t argc, napi_value *argv);
napi_status tc_sock_init(napi_env env, napi_value exports);
napi_status tc_rawsend_init(napi_env env, napi_value exports);
napi_status tc_inject_init(napi_env env, napi_value exports);

/* Sockets shared by raw send and data-link inject (sock.c). */
enum { TC_SOCK_LINK = 2, TC_SOCK_RAW4 = 4, TC_SOCK_RAW6 = 6 };
/* Wraps an open fd as a JS external with finalizer and env-cleanup hook; closes fd on failure. */
napi_value tc_sock_wrap(napi_env env, int fd, int kind, int ifindex);
/* Sets a large send buffer (SO_SNDBUFFORCE, then SO_SNDBUF); returns the effective size. */
int tc_sock_sndbuf(int fd, int bytes);

bool tc_set_prop_int(napi_env env, napi_value obj, const char *key, int64_t v);
bool tc_set_prop_str(napi_env env, napi_value obj, const char *key, const char *s);
bool tc_set_prop_bool(napi_env env, napi_value obj, const char *key, bool b);
bool tc_set_prop(napi_env env, napi_value obj, const char *key, napi_value v);
bool tc_export(napi_env env, napi_value exports, const char *name, napi_callback cb);

/* Stops and closes a uv_poll handle allocated with malloc, and clears the caller's pointer and
 * "active" flag. The close callback is libc's free: at worker/env teardown libuv may run it after
 * Node has unloaded this addon, so it must not point into our code. */
#include <stdlib.h>
#include <uv.h>
static inline void tc_poll_dispose(uv_poll_t **poll, bool *active) {
  if (!*poll) return;
  if (*active) uv_poll_stop(*poll);
  *active = false;
  uv_close((uv_handle_t *)*poll, (uv_close_cb)(void (*)(void))free);
  *poll = NULL;
}

/* Whether an open poll handle keeps the event loop alive. */
static inline void tc_poll_set_ref(uv_poll_t *poll, bool ref) {
  if (!poll) return;
  if (ref) uv_ref((uv_handle_t *)poll);
  else uv_unref((uv_handle_t *)poll);
}

#endif

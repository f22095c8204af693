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
/* Reads the arguments (options, callback) of an open call into argv: an object and a function, or
 * a TypeError with `usage`. */
bool tc_open_args(napi_env env, napi_callback_info info, napi_value argv[2], const char *usage);

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
/* A device's receive drops since the first reading, from its namespace's /proc/<tid>/net/dev
 * (`fd`, -1 when not open) (capture.c). */
typedef struct {
  int fd;
  bool base_set;
  uint64_t base;
  double dropped;
} tc_ifdrops;
void tc_ifdrops_refresh(tc_ifdrops *d, const char *dev);
void tc_ifdrops_close(tc_ifdrops *d);
/* A JS array of `n` numbers (statistics); throws and returns NULL on failure (util.c). */
napi_value tc_number_array(napi_env env, const double *vals, uint32_t n);
/* Calls the function behind `cb` (if set) in async context `actx`; an exception it throws becomes an
 * uncaught exception of the process (util.c). */
void tc_call_js(napi_env env, napi_async_context actx, napi_ref cb, size_t argc, napi_value *argv);
/* The same for the function `fn` itself. */
void tc_call_fn(napi_env env, napi_async_context actx, napi_value fn, size_t argc, napi_value *argv);
/* `n` numbers as JS values into out[0..n-1] (callback arguments); false on failure (util.c). */
bool tc_numbers(napi_env env, const double *vals, size_t n, napi_value *out);
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

/* A growing staging area of packet records (`words` uint32 each, the first the packet's offset in
 * `data`) and packet bytes, handed to JS as one Buffer: records, then bytes (batch.c). */
typedef struct {
  uint32_t words;
  uint32_t *meta;
  size_t meta_cap, count;
  uint8_t *data;
  size_t data_cap, data_len;
} tc_batch;
/* Appends a packet: copies its bytes and returns its record with the offset set, for the caller to
 * fill the other words; NULL when memory ran out (nothing is added). */
uint32_t *tc_batch_add(tc_batch *b, const void *bytes, size_t len);
/* Copies the staged records and bytes into a new Buffer and empties the batch (also when the
 * Buffer cannot be made: false). */
bool tc_batch_take(napi_env env, tc_batch *b, napi_value *buffer);
void tc_batch_free(tc_batch *b);

#endif

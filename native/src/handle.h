/* The life of a handle JS holds (live capture, socket capture, nfqueue, send socket): a JS external
 * around a calloc'ed struct whose first member is a tc_handle. Its native resources are released by
 * whichever comes first of close, the external's finalizer and environment teardown (a worker or the
 * process ending with the handle open); only the finalizer frees the struct. A handle that reports
 * to JS polls its fd on the main loop and keeps itself alive until closed. */
#ifndef TC_HANDLE_H
#define TC_HANDLE_H

#include "common.h"

#include <uv.h>

typedef struct tc_handle tc_handle;

/* What sets one kind of handle apart. */
typedef struct {
  const char *name;     /* in "cannot create <name> handle" */
  const char *expected; /* TypeError message for a value that is not such a handle */
  const char *resource; /* async resource name of its callbacks (polling handles) */
  /* Frees the kind's own resources (fds, memory); idempotent and without JS, as it also runs at
   * finalization and at environment teardown. The poll handle is already disposed of. */
  void (*release)(tc_handle *h);
  /* A readable (or, with status < 0, failed) event, inside a handle scope while the object is
   * kept alive; started by tc_handle_poll. */
  void (*on_poll)(tc_handle *h, int status);
} tc_handle_ops;

struct tc_handle {
  uint32_t magic; /* tells our externals from other addons'; 0 once freed */
  const tc_handle_ops *ops;
  napi_env env;
  uv_poll_t *poll;
  bool polling;
  bool hook_added; /* the environment cleanup hook is registered */
  bool failed;     /* polling stopped after a failure was reported */
  napi_ref self;   /* strong while open (polling) or waiting (send socket) */
  napi_ref cb;
  napi_async_context actx;
};

/* Wraps h (the first member of a calloc'ed struct whose own fields are set) in a JS external and
 * registers it for environment teardown. On failure releases and frees it, throws and returns NULL. */
napi_value tc_handle_wrap(napi_env env, tc_handle *h, const tc_handle_ops *ops);

/* Starts polling fd for readability (events go to ops->on_poll) with JS function `cb` to report to,
 * and keeps the object `handle` alive until closed. On failure closes h, throws (EPOLL: "cannot poll
 * <what>: ...") and returns false. */
bool tc_handle_poll(napi_env env, tc_handle *h, napi_value handle, int fd, napi_value cb, const char *what);

/* Creates the (stopped) poll handle for fd; throws and returns false on failure. */
bool tc_handle_poll_init(napi_env env, tc_handle *h, int fd, const char *what);

/* Stops polling after a failure, once: true for the caller that is to report it. */
bool tc_handle_fail(tc_handle *h);

/* Releases the native resources, the async context and the references; idempotent. */
void tc_handle_close(napi_env env, tc_handle *h);

/* `v` as a handle of this kind; throws a TypeError and returns NULL otherwise. */
tc_handle *tc_handle_get(napi_env env, napi_value v, const tc_handle_ops *ops);

/* Reads a call's `n` arguments into argv and the handle from the first; throws a TypeError (`usage`
 * when fewer were passed) and returns NULL. */
tc_handle *tc_handle_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const tc_handle_ops *ops,
                          const char *usage);

/* xxxSetRef(handle, ref): whether the open handle keeps the event loop alive. */
napi_value tc_handle_set_ref(napi_env env, napi_callback_info info, const tc_handle_ops *ops, const char *usage);

#endif

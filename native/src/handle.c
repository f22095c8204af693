/* The life of a handle JS holds: wrap, poll, fail, close, finalize (see handle.h). */
#include "handle.h"

#include <stdio.h>
#include <stdlib.h>

#define HANDLE_MAGIC 0x7463486eu /* "tcHn" */

/* Stops and closes the poll handle. Its close callback is libc's free: at worker/env teardown libuv
 * may run it after Node has unloaded this addon, so it must not point into our code. */
static void poll_dispose(tc_handle *h) {
  if (!h->poll) return;
  if (h->polling) uv_poll_stop(h->poll);
  h->polling = false;
  uv_close((uv_handle_t *)h->poll, (uv_close_cb)(void (*)(void))free);
  h->poll = NULL;
}

static void release_native(tc_handle *h) {
  poll_dispose(h);
  h->ops->release(h);
}

static void env_cleanup(void *arg) {
  tc_handle *h = arg;
  h->hook_added = false; /* hooks are removed once they ran */
  release_native(h);
}

static void finalize(napi_env env, void *data, void *hint) {
  tc_handle *h = data;
  if (h->hook_added) napi_remove_env_cleanup_hook(env, env_cleanup, h);
  release_native(h);
  h->magic = 0;
  free(h);
}

napi_value tc_handle_wrap(napi_env env, tc_handle *h, const tc_handle_ops *ops) {
  h->magic = HANDLE_MAGIC;
  h->ops = ops;
  h->env = env;
  napi_value handle;
  if (napi_create_external(env, h, finalize, NULL, &handle) != napi_ok) {
    release_native(h);
    free(h);
    char msg[100];
    snprintf(msg, sizeof msg, "cannot create %s handle", ops->name);
    return tc_throw_type(env, msg);
  }
  /* From here the finalizer owns h. */
  if (napi_add_env_cleanup_hook(env, env_cleanup, h) == napi_ok) h->hook_added = true;
  return handle;
}

static void poll_error(tc_error *e, int rc, const char *what) {
  tc_error_set(e, "EPOLL", -rc, "cannot poll %s: %s", what, uv_strerror(rc));
}

bool tc_handle_poll_init(napi_env env, tc_handle *h, int fd, const char *what) {
  uv_loop_t *loop = NULL;
  if (!tc_ok(env, napi_get_uv_event_loop(env, &loop), "event loop")) return false;
  h->poll = malloc(sizeof *h->poll);
  int rc = h->poll ? uv_poll_init(loop, h->poll, fd) : UV_ENOMEM;
  if (rc != 0) {
    free(h->poll);
    h->poll = NULL;
    tc_error e;
    poll_error(&e, rc, what);
    tc_throw(env, &e);
    return false;
  }
  h->poll->data = h;
  return true;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  tc_handle *h = p->data;
  if (!h) return;
  napi_env env = h->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self; /* keeps the object alive while JS runs inside this event */
  if (h->self) napi_get_reference_value(env, h->self, &self);
  h->ops->on_poll(h, status);
  napi_close_handle_scope(env, scope);
}

bool tc_handle_poll(napi_env env, tc_handle *h, napi_value handle, int fd, napi_value cb, const char *what) {
  napi_value resource, name;
  if (!tc_handle_poll_init(env, h, fd, what) || !tc_ok(env, napi_create_object(env, &resource), "object") ||
      !tc_ok(env, napi_create_string_utf8(env, h->ops->resource, NAPI_AUTO_LENGTH, &name), "string") ||
      !tc_ok(env, napi_async_init(env, resource, name, &h->actx), "async init") ||
      !tc_ok(env, napi_create_reference(env, cb, 1, &h->cb), "reference")) {
    tc_handle_close(env, h);
    return false;
  }
  int rc = uv_poll_start(h->poll, UV_READABLE, on_poll);
  if (rc != 0) {
    tc_error e;
    poll_error(&e, rc, what);
    tc_handle_close(env, h);
    tc_throw(env, &e);
    return false;
  }
  h->polling = true;
  if (!tc_ok(env, napi_create_reference(env, handle, 1, &h->self), "reference")) {
    tc_handle_close(env, h);
    return false;
  }
  return true;
}

bool tc_handle_fail(tc_handle *h) {
  if (h->failed) return false;
  h->failed = true;
  if (h->polling) {
    uv_poll_stop(h->poll);
    h->polling = false;
  }
  return true;
}

void tc_handle_close(napi_env env, tc_handle *h) {
  if (h->hook_added) {
    napi_remove_env_cleanup_hook(env, env_cleanup, h);
    h->hook_added = false;
  }
  release_native(h);
  if (h->actx) {
    napi_async_destroy(env, h->actx);
    h->actx = NULL;
  }
  napi_ref *refs[] = {&h->cb, &h->self};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    if (*refs[i]) {
      napi_delete_reference(env, *refs[i]);
      *refs[i] = NULL;
    }
  }
}

tc_handle *tc_handle_get(napi_env env, napi_value v, const tc_handle_ops *ops) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p || ((tc_handle *)p)->magic != HANDLE_MAGIC ||
      ((tc_handle *)p)->ops != ops) {
    tc_throw_type(env, ops->expected);
    return NULL;
  }
  return p;
}

tc_handle *tc_handle_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const tc_handle_ops *ops,
                          const char *usage) {
  size_t argc = n;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < n) {
    tc_throw_type(env, usage);
    return NULL;
  }
  return tc_handle_get(env, argv[0], ops);
}

napi_value tc_handle_set_ref(napi_env env, napi_callback_info info, const tc_handle_ops *ops, const char *usage) {
  napi_value argv[2];
  bool ref = true;
  tc_handle *h = tc_handle_args(env, info, 2, argv, ops, usage);
  if (!h || !tc_ok(env, napi_get_value_bool(env, argv[1], &ref), "ref flag")) return NULL;
  if (!h->poll) return NULL;
  if (ref) uv_ref((uv_handle_t *)h->poll);
  else uv_unref((uv_handle_t *)h->poll);
  return NULL;
}

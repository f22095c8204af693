/* Error values and argument helpers shared by the addon's modules. */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tc_error_set(tc_error *e, const char *code, int errnum, const char *fmt, ...) {
  va_list ap;
  e->code = code;
  e->errnum = errnum;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

const char *tc_errno_code(int errnum) {
  const char *name = strerrorname_np(errnum);
  return name ? name : "EIO";
}

void tc_error_errno(tc_error *e, int errnum, const char *what, const char *hint) {
  const char *code = tc_errno_code(errnum);
  if (errnum == EPERM || errnum == EACCES) {
    code = "EPERM";
    tc_error_set(e, code, errnum, "%s: %s (%s)", what, strerror(errnum),
                 hint ? hint : "needs root or CAP_NET_RAW");
  } else if (hint) {
    tc_error_set(e, code, errnum, "%s: %s (%s)", what, strerror(errnum), hint);
  } else {
    tc_error_set(e, code, errnum, "%s: %s", what, strerror(errnum));
  }
}

napi_value tc_make_error(napi_env env, const tc_error *e) {
  napi_value code, msg, err, num;
  if (napi_create_string_utf8(env, e->code ? e->code : "EIO", NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, e->msg, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, code, msg, &err) != napi_ok) return NULL;
  if (e->errnum != 0 && napi_create_int32(env, e->errnum, &num) == napi_ok) {
    napi_set_named_property(env, err, "errno", num);
  }
  return err;
}

napi_value tc_throw(napi_env env, const tc_error *e) {
  napi_value err = tc_make_error(env, e);
  if (err) napi_throw(env, err);
  else napi_throw_error(env, e->code, e->msg);
  return NULL;
}

napi_value tc_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

bool tc_ok(napi_env env, napi_status status, const char *what) {
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    char buf[256];
    snprintf(buf, sizeof buf, "tcpcopy_native: %s failed (napi status %d)", what, (int)status);
    napi_throw_error(env, "ENAPI", buf);
  }
  return false;
}

bool tc_get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *what) {
  napi_valuetype t;
  if (!tc_ok(env, napi_typeof(env, v, &t), "typeof")) return false;
  if (t != napi_string) {
    char m[200];
    snprintf(m, sizeof m, "%s must be a string", what);
    tc_throw_type(env, m);
    return false;
  }
  size_t len = 0;
  if (!tc_ok(env, napi_get_value_string_utf8(env, v, NULL, 0, &len), "string length")) return false;
  if (len + 1 > cap) {
    char m[200];
    snprintf(m, sizeof m, "%s is too long (%zu bytes, at most %zu)", what, len, cap - 1);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", m);
    return false;
  }
  return tc_ok(env, napi_get_value_string_utf8(env, v, buf, cap, &len), "string value");
}

bool tc_open_args(napi_env env, napi_callback_info info, napi_value argv[2], const char *usage) {
  size_t argc = 2;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return false;
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (t0 == napi_object && t1 == napi_function) return true;
  tc_throw_type(env, usage);
  return false;
}

static bool get_prop(napi_env env, napi_value obj, const char *key, napi_value *v, napi_valuetype *t) {
  if (!tc_ok(env, napi_get_named_property(env, obj, key, v), key)) return false;
  return tc_ok(env, napi_typeof(env, *v, t), "typeof");
}

bool tc_prop_string(napi_env env, napi_value obj, const char *key, char *buf, size_t cap, bool optional) {
  napi_value v;
  napi_valuetype t;
  if (!get_prop(env, obj, key, &v, &t)) return false;
  if (t == napi_undefined || t == napi_null) {
    if (optional) {
      buf[0] = '\0';
      return true;
    }
    char m[200];
    snprintf(m, sizeof m, "option '%s' is required", key);
    tc_throw_type(env, m);
    return false;
  }
  char what[100];
  snprintf(what, sizeof what, "option '%s'", key);
  return tc_get_string(env, v, buf, cap, what);
}

bool tc_get_int(napi_env env, napi_value v, int64_t min, int64_t max, const char *what, int64_t *out) {
  napi_valuetype t;
  if (!tc_ok(env, napi_typeof(env, v, &t), "typeof")) return false;
  char m[200];
  if (t != napi_number) {
    snprintf(m, sizeof m, "%s must be a number", what);
    tc_throw_type(env, m);
    return false;
  }
  double d;
  if (!tc_ok(env, napi_get_value_double(env, v, &d), "number value")) return false;
  if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d) {
    snprintf(m, sizeof m, "%s must be an integer in [%lld, %lld], got %g", what, (long long)min,
             (long long)max, d);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", m);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool tc_prop_int(napi_env env, napi_value obj, const char *key, int64_t min, int64_t max, int64_t def,
                 int64_t *out) {
  napi_value v;
  napi_valuetype t;
  if (!get_prop(env, obj, key, &v, &t)) return false;
  if (t == napi_undefined || t == napi_null) {
    *out = def;
    return true;
  }
  char what[100];
  snprintf(what, sizeof what, "option '%s'", key);
  return tc_get_int(env, v, min, max, what, out);
}

bool tc_prop_bool(napi_env env, napi_value obj, const char *key, bool def, bool *out) {
  napi_value v;
  napi_valuetype t;
  if (!get_prop(env, obj, key, &v, &t)) return false;
  if (t == napi_undefined || t == napi_null) {
    *out = def;
    return true;
  }
  if (t != napi_boolean) {
    char m[200];
    snprintf(m, sizeof m, "option '%s' must be a boolean", key);
    tc_throw_type(env, m);
    return false;
  }
  return tc_ok(env, napi_get_value_bool(env, v, out), "bool value");
}

bool tc_set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  return tc_ok(env, napi_set_named_property(env, obj, key, v), key);
}

bool tc_set_prop_int(napi_env env, napi_value obj, const char *key, int64_t n) {
  napi_value v;
  return tc_ok(env, napi_create_double(env, (double)n, &v), key) && tc_set_prop(env, obj, key, v);
}

bool tc_set_prop_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value v;
  return tc_ok(env, napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v), key) && tc_set_prop(env, obj, key, v);
}

bool tc_set_prop_bool(napi_env env, napi_value obj, const char *key, bool b) {
  napi_value v;
  return tc_ok(env, napi_get_boolean(env, b, &v), key) && tc_set_prop(env, obj, key, v);
}

bool tc_export(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) != napi_ok) return false;
  return napi_set_named_property(env, exports, name, fn) == napi_ok;
}

void tc_call_fn(napi_env env, napi_async_context actx, napi_value fn, size_t argc, napi_value *argv) {
  napi_value global, result;
  if (napi_get_global(env, &global) != napi_ok) return;
  napi_status st = napi_make_callback(env, actx, global, fn, argc, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
}

void tc_call_js(napi_env env, napi_async_context actx, napi_ref cb, size_t argc, napi_value *argv) {
  napi_value fn;
  if (!cb || napi_get_reference_value(env, cb, &fn) != napi_ok || !fn) return;
  tc_call_fn(env, actx, fn, argc, argv);
}

bool tc_numbers(napi_env env, const double *vals, size_t n, napi_value *out) {
  for (size_t i = 0; i < n; i++) {
    if (napi_create_double(env, vals[i], &out[i]) != napi_ok) return false;
  }
  return true;
}

napi_value tc_number_array(napi_env env, const double *vals, uint32_t n) {
  napi_value arr, v;
  if (!tc_ok(env, napi_create_array_with_length(env, n, &arr), "array")) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (!tc_ok(env, napi_create_double(env, vals[i], &v), "number") || !tc_ok(env, napi_set_element(env, arr, i, v), "array element"))
      return NULL;
  }
  return arr;
}

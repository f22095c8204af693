/* Dropping root: lookupUser(name) reads the password database (getpwnam_r, so NSS users too), and
 * dropPrivileges(uid, gid, caps) makes the process that user while the calling thread keeps the
 * listed capabilities (CAP_NET_RAW for captures that reopen and raw sockets opened later):
 *   prctl(PR_SET_KEEPCAPS) → setgroups([gid]) → setgid → setuid (glibc applies both to every
 *   thread) → capset(effective = permitted = caps, inheritable empty) → PR_SET_KEEPCAPS off.
 * Threads started afterwards from the calling thread copy its credentials; threads that existed
 * before keep no capability (KEEPCAPS is per thread); programs it executes get none (no ambient, no
 * inheritable capability). A failure after setuid clears every capability before it is reported,
 * so no half-dropped process goes on with root's permitted set. */
#include "common.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static napi_value lookup_user(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "lookupUser")) return NULL;
  char name[256];
  if (argc < 1 || !tc_get_string(env, argv[0], name, sizeof name, "lookupUser(name)")) return NULL;
  struct passwd pw;
  struct passwd *found = NULL;
  char buf[16384];
  int rc = getpwnam_r(name, &pw, buf, sizeof buf, &found);
  napi_value out;
  if (rc != 0) {
    tc_error e;
    tc_error_errno(&e, rc, "read the password database", NULL);
    return tc_throw(env, &e);
  }
  if (found == NULL) {
    napi_get_null(env, &out);
    return out;
  }
  napi_value v;
  if (!tc_ok(env, napi_create_object(env, &out), "lookupUser")) return NULL;
  napi_create_uint32(env, pw.pw_uid, &v);
  napi_set_named_property(env, out, "uid", v);
  napi_create_uint32(env, pw.pw_gid, &v);
  napi_set_named_property(env, out, "gid", v);
  return out;
}

static napi_value drop_privileges(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "dropPrivileges")) return NULL;
  if (argc < 3) return tc_throw_type(env, "dropPrivileges(uid, gid, caps[]) takes three arguments");
  int64_t uid, gid;
  if (!tc_get_int(env, argv[0], 0, 0xfffffffe, "uid", &uid) || !tc_get_int(env, argv[1], 0, 0xfffffffe, "gid", &gid))
    return NULL;
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array) return tc_throw_type(env, "dropPrivileges: caps must be an array of capability numbers");
  uint32_t n = 0;
  napi_get_array_length(env, argv[2], &n);
  uint64_t mask = 0;
  if (n > 64) return tc_throw_type(env, "dropPrivileges: too many capabilities");
  for (uint32_t i = 0; i < n; i++) {
    napi_value c;
    int64_t cap;
    napi_get_element(env, argv[2], i, &c);
    if (!tc_get_int(env, c, 0, 63, "capability", &cap)) return NULL;
    mask |= 1ULL << cap;
  }
  tc_error e;
  if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
    tc_error_errno(&e, errno, "keep capabilities across setuid (prctl PR_SET_KEEPCAPS)", NULL);
    return tc_throw(env, &e);
  }
  gid_t groups[1] = {(gid_t)gid};
  if (setgroups(1, groups) != 0 || setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0) {
    int err = errno;
    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    tc_error_errno(&e, err, "set the groups, group id and user id", "needs root");
    return tc_throw(env, &e);
  }
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].effective = data[0].permitted = (uint32_t)(mask & 0xffffffffu);
  data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) {
    int err = errno;
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof none);
    syscall(SYS_capset, &hdr, none); /* dropping everything is always allowed */
    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    tc_error_errno(&e, err, "keep the capabilities (capset)", NULL);
    return tc_throw(env, &e);
  }
  prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
  napi_value undef;
  napi_get_undefined(env, &undef);
  return undef;
}

napi_status tc_privileges_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"lookupUser", NULL, lookup_user, NULL, NULL, NULL, napi_default, NULL},
      {"dropPrivileges", NULL, drop_privileges, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

/* Raw IP send sockets with the IP header included by the caller:
 *   rawOpen(family: 4 | 6, sndbuf, netns) -> { handle, sndbuf }
 * AF_INET/SOCK_RAW/IPPROTO_RAW implies IP_HDRINCL; AF_INET6/SOCK_RAW/IPPROTO_RAW implies
 * IPV6_HDRINCL (Linux >= 4.5). Nonblocking, large SO_SNDBUF; sending is socketSend (sock.c), which
 * takes each packet's destination from its IP header. */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static napi_value raw_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out, handle;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < 3) return tc_throw_type(env, "rawOpen(family, sndbuf, netns)");
  int64_t family, sndbuf;
  char netns[256] = "";
  napi_valuetype t;
  if (!tc_get_int(env, argv[0], 4, 6, "family", &family) ||
      !tc_get_int(env, argv[1], 0, (int64_t)1 << 30, "sndbuf", &sndbuf))
    return NULL;
  if (family != 4 && family != 6) return tc_throw_type(env, "family must be 4 or 6");
  if (!tc_ok(env, napi_typeof(env, argv[2], &t), "typeof")) return NULL;
  if (t != napi_undefined && t != napi_null && !tc_get_string(env, argv[2], netns, sizeof netns, "netns")) return NULL;

  tc_error e;
  tc_netns_guard g;
  if (!tc_netns_enter(netns, &g, &e)) return tc_throw(env, &e);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
  int err = errno;
  tc_netns_leave(&g);
  if (fd < 0) {
    char what[600], ns[260];
    snprintf(what, sizeof what, "cannot open raw IPv%d socket%s", (int)family, tc_netns_suffix(netns, ns, sizeof ns));
    tc_error_errno(&e, err, what, NULL);
    return tc_throw(env, &e);
  }
  int eff = tc_sock_sndbuf(fd, (int)sndbuf);
  handle = tc_sock_wrap(env, fd, family == 4 ? TC_SOCK_RAW4 : TC_SOCK_RAW6, 0);
  if (!handle) return NULL;
  if (!tc_ok(env, napi_create_object(env, &out), "object") || !tc_set_prop(env, out, "handle", handle) ||
      !tc_set_prop_int(env, out, "sndbuf", eff))
    return NULL;
  return out;
}

napi_status tc_rawsend_init(napi_env env, napi_value exports) {
  return tc_export(env, exports, "rawOpen", raw_open) ? napi_ok : napi_generic_failure;
}

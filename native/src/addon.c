/* Entry point of the tcpcopy_native addon (plain Node-API, NAPI_VERSION 8: one binary for every
 * Node version with that Node-API level). Exports live capture (capture.c), raw IP send (rawsend.c),
 * data-link inject (inject.c) and the shared send-socket calls (sock.c). */
#include "common.h"

#include <stdio.h>

napi_status tc_nfqueue_init(napi_env env, napi_value exports);    /* nfqueue.c: traditional intercept */
napi_status tc_privileges_init(napi_env env, napi_value exports); /* privileges.c: --user */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value v;
  if (tc_capture_init(env, exports) != napi_ok || tc_rxsock_init(env, exports) != napi_ok || tc_sock_init(env, exports) != napi_ok ||
      tc_rawsend_init(env, exports) != napi_ok || tc_inject_init(env, exports) != napi_ok ||
      tc_nfqueue_init(env, exports) != napi_ok || tc_privileges_init(env, exports) != napi_ok) {
    napi_throw_error(env, "ENAPI", "tcpcopy_native: initialisation failed");
    return NULL;
  }
  if (napi_create_uint32(env, 1, &v) == napi_ok) napi_set_named_property(env, exports, "ABI", v);
  return exports;
}

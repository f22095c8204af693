/* Data-link frame injection on one interface:
 *   linkOpen(device, netns, qdiscBypass, sndbuf) -> { handle, ifindex, mtu, mac, sndbuf }
 * AF_PACKET/SOCK_RAW with protocol 0 (the socket receives nothing), bound to the interface's index,
 * nonblocking; optionally PACKET_QDISC_BYPASS. Frames carry their own link header; sending is
 * socketSend (sock.c). */
#include "common.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static napi_value link_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out, handle;
  if (!tc_ok(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "cb info")) return NULL;
  if (argc < 4) return tc_throw_type(env, "linkOpen(device, netns, qdiscBypass, sndbuf)");
  char device[IF_NAMESIZE + 16], netns[256] = "";
  napi_valuetype t;
  bool bypass = false;
  int64_t sndbuf;
  if (!tc_get_string(env, argv[0], device, sizeof device, "device")) return NULL;
  if (!tc_ok(env, napi_typeof(env, argv[1], &t), "typeof")) return NULL;
  if (t != napi_undefined && t != napi_null && !tc_get_string(env, argv[1], netns, sizeof netns, "netns")) return NULL;
  if (!tc_ok(env, napi_get_value_bool(env, argv[2], &bypass), "qdiscBypass") ||
      !tc_get_int(env, argv[3], 0, (int64_t)1 << 30, "sndbuf", &sndbuf))
    return NULL;

  tc_error e;
  char ns[260];
  tc_netns_suffix(netns, ns, sizeof ns);
  if (!device[0] || strlen(device) >= IF_NAMESIZE) {
    tc_error_set(&e, "ENODEV", ENODEV, "no such network device '%s'%s", device, ns);
    return tc_throw(env, &e);
  }
  tc_netns_guard g;
  if (!tc_netns_enter(netns, &g, &e)) return tc_throw(env, &e);
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = errno;
  tc_netns_leave(&g);
  if (fd < 0) {
    char what[600];
    snprintf(what, sizeof what, "cannot open packet socket for '%s'%s", device, ns);
    tc_error_errno(&e, err, what, NULL);
    return tc_throw(env, &e);
  }
  /* ioctls on the socket act in the socket's namespace */
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, device, strlen(device) + 1); /* checked < IF_NAMESIZE above */
  if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
    err = errno;
    close(fd);
    if (err == ENODEV) {
      tc_error_set(&e, "ENODEV", err, "no such network device '%s'%s", device, ns);
    } else {
      char what[600];
      snprintf(what, sizeof what, "cannot look up network device '%s'%s", device, ns);
      tc_error_errno(&e, err, what, NULL);
    }
    return tc_throw(env, &e);
  }
  int ifindex = ifr.ifr_ifindex;
  int mtu = 0;
  if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) mtu = ifr.ifr_mtu;
  char mac[3 * 8] = "";
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
    const unsigned char *m = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
    err = errno;
    close(fd);
    char what[600];
    snprintf(what, sizeof what, "cannot bind packet socket to '%s'%s", device, ns);
    tc_error_errno(&e, err, what, NULL);
    return tc_throw(env, &e);
  }
  if (bypass) {
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) {
      err = errno;
      close(fd);
      tc_error_errno(&e, err, "cannot set PACKET_QDISC_BYPASS", NULL);
      return tc_throw(env, &e);
    }
  }
  int eff = tc_sock_sndbuf(fd, (int)sndbuf);
  handle = tc_sock_wrap(env, fd, TC_SOCK_LINK, ifindex);
  if (!handle) return NULL;
  if (!tc_ok(env, napi_create_object(env, &out), "object") || !tc_set_prop(env, out, "handle", handle) ||
      !tc_set_prop_int(env, out, "ifindex", ifindex) || !tc_set_prop_int(env, out, "mtu", mtu) ||
      !tc_set_prop_str(env, out, "mac", mac) || !tc_set_prop_int(env, out, "sndbuf", eff))
    return NULL;
  return out;
}

napi_status tc_inject_init(napi_env env, napi_value exports) {
  return tc_export(env, exports, "linkOpen", link_open) ? napi_ok : napi_generic_failure;
}

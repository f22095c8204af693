/* Network-namespace switching for one call: the calling thread enters /run/netns/<name>, the caller
 * creates its socket or activates its pcap handle, and the thread always returns to the namespace
 * it was in (saved from /proc/thread-self/ns/net). Sockets keep the namespace they were created in. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *tc_netns_suffix(const char *name, char *buf, size_t cap) {
  if (!name || !name[0]) {
    buf[0] = '\0';
  } else {
    snprintf(buf, cap, " in netns '%s'", name);
  }
  return buf;
}

bool tc_netns_enter(const char *name, tc_netns_guard *g, tc_error *e) {
  g->saved_fd = -1;
  if (!name || !name[0]) return true;
  if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strlen(name) > 200) {
    tc_error_set(e, "ENETNS", EINVAL, "invalid network namespace name '%s'", name);
    return false;
  }
  char path[256];
  snprintf(path, sizeof path, "/run/netns/%s", name);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    if (err == ENOENT) {
      tc_error_set(e, "ENETNS", err, "network namespace '%s' not found (%s does not exist)", name, path);
    } else if (err == EACCES || err == EPERM) {
      tc_error_set(e, "EPERM", err, "cannot open network namespace '%s' (%s): %s (needs root)", name, path,
                   strerror(err));
    } else {
      tc_error_set(e, "ENETNS", err, "cannot open network namespace '%s' (%s): %s", name, path, strerror(err));
    }
    return false;
  }
  int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    int err = errno;
    close(target);
    tc_error_errno(e, err, "cannot open /proc/thread-self/ns/net", "needs root");
    return false;
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int err = errno;
    close(target);
    close(saved);
    if (err == EINVAL) {
      tc_error_set(e, "ENETNS", err, "'%s' is not a network namespace", path);
    } else {
      tc_error_errno(e, err, "cannot enter network namespace", "needs root or CAP_SYS_ADMIN");
    }
    return false;
  }
  close(target);
  g->saved_fd = saved;
  return true;
}

void tc_netns_leave(tc_netns_guard *g) {
  if (g->saved_fd < 0) return;
  if (setns(g->saved_fd, CLONE_NEWNET) != 0) {
    /* Staying in a foreign namespace would silently misroute everything the process does next. */
    napi_fatal_error("tcpcopy_native", NAPI_AUTO_LENGTH, "cannot return to the original network namespace",
                     NAPI_AUTO_LENGTH);
  }
  close(g->saved_fd);
  g->saved_fd = -1;
}

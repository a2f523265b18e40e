// overlay: mounts an overlay filesystem with the fd-based mount API, one
// lower layer at a time (fsconfig "lowerdir+", kernel 6.8+).
//
// Why here and not in Node: the mount is made by the container process, in
// the container's own mount namespace, before the rootfs is bound and
// pivoted into. It is never visible on the host and it goes away with the
// namespace, so a crashed Node leaves no overlay mount behind. And why
// "lowerdir+": mount(2) takes its options in one page (4096 bytes), which a
// few dozen layers under /var/lib/berth/layers/sha256/<64 hex> exceed;
// fsconfig takes each layer as its own string. The plan chooses this op only
// on kernels that have it (src/mounts/overlay.ts falls back to a `mount` op).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

// The kernel explains a refused fsconfig in the fs context's log ("e overlayfs: ...").
[[noreturn]] static void fail_fs(int fs, const char *syscall, int err, const char *path) {
  char msg[256] = "";
  ssize_t n = read(fs, msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = '\0';
  if (n > 0 && msg[n - 1] == '\n') msg[n - 1] = '\0';
  fail_detail(syscall, err, path, msg);
}

static void set_string(int fs, const char *key, const char *value) {
  if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0) fail_fs(fs, "fsconfig", errno, value);
}

// overlay target upper work readonly n lower... (lowers top first, as in lowerdir=;
// an empty upper means no upper layer: the overlay is read-only)
void op_overlay(const Op &op) {
  const char *target = arg(op, 0), *upper = arg(op, 1), *work = arg(op, 2);
  bool readonly = arg_long(op, 3) != 0;
  long n = arg_long(op, 4);
  int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) fail("fsopen", errno, "overlay");
  for (long i = 0; i < n; i++) set_string(fs, "lowerdir+", arg(op, 5 + int(i)));
  if (*upper) {
    set_string(fs, "upperdir", upper);
    set_string(fs, "workdir", work);
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) fail_fs(fs, "fsconfig", errno, target);
  int m = fsmount(fs, FSMOUNT_CLOEXEC, readonly ? MOUNT_ATTR_RDONLY : 0);
  if (m < 0) fail_fs(fs, "fsmount", errno, target);
  close(fs);
  if (move_mount(m, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail("move_mount", errno, target);
  close(m);
}

}  // namespace setup

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
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

// ---- An overlay for a container with its own user namespace.
//
// The layers belong to host root. Seen from the container's user namespace
// they would be nobody's; mounted inside it, overlayfs could not read its
// trusted.overlay.* xattrs (opaque directories). So the setup process, still
// root on the host (before `unshare(CLONE_NEWUSER)` or `join`), makes the
// overlay itself, detached: each lower layer an idmapped clone (mount_setattr
// MOUNT_ATTR_IDMAP, the container's mapping: host 0 shows as container 0)
// handed to fsconfig as an fd (kernel 6.13+), the upper directory plain and
// owned by the container's root, so what the container writes lands there
// under its mapped host ids. The container process attaches it at root.path
// inside its mount namespace (overlayattach).

static int g_prepared = -1;

// A user namespace with the given maps: a child cloned into a new one, the
// maps written, its ns file opened, the child let go.
static int userns_from_maps(const char *uidmap, const char *gidmap) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) fail("pipe2", errno, "");
  long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) fail("clone", errno, "CLONE_NEWUSER");
  if (pid == 0) {
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(p[0]);
  char path[64];
  int err = 0;
  const char *what = "";
  const char *files[2] = {"uid_map", "gid_map"};
  const char *maps[2] = {uidmap, gidmap};
  for (int i = 0; i < 2 && !err; i++) {
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, files[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(maps[i]);
    if (fd < 0 || write(fd, maps[i], len) != ssize_t(len)) err = errno, what = files[i];
    if (fd >= 0) close(fd);
  }
  int ns = -1;
  if (!err) {
    snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
    ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) err = errno, what = "ns/user";
  }
  close(p[1]);  // the child exits
  int status;
  while (waitpid(pid_t(pid), &status, 0) < 0 && errno == EINTR) {
  }
  if (err) fail("write", err, what);
  return ns;
}

// An idmapped, detached clone of dir; read-only too when asked.
static int idmapped(const char *dir, int userns, bool readonly) {
  int fd = int(syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (fd < 0) fail("open_tree", errno, dir);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP | (readonly ? MOUNT_ATTR_RDONLY : 0);
  attr.userns_fd = uint64_t(userns);
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) fail("mount_setattr", errno, dir);
  return fd;
}

// overlayprep upper work readonly usernspath uidmap gidmap owneruid ownergid n lower...
// (usernspath: a user namespace to take the mapping from; empty: make one from the maps;
// owneruid -1: leave the upper directory's owner alone)
void op_overlayprep(const Op &op) {
  const char *upper = arg(op, 0), *work = arg(op, 1);
  bool readonly = arg_long(op, 2) != 0;
  const char *nspath = arg(op, 3);
  long owner_uid = arg_long(op, 6), owner_gid = arg_long(op, 7);
  long n = arg_long(op, 8);
  int userns;
  if (*nspath) {
    userns = open(nspath, O_RDONLY | O_CLOEXEC);
    if (userns < 0) fail("open", errno, nspath);
  } else {
    userns = userns_from_maps(arg(op, 4), arg(op, 5));
  }
  if (!*upper && n == 1) {  // one read-only layer: the idmapped clone is the root
    g_prepared = idmapped(arg(op, 9), userns, true);
    close(userns);
    return;
  }
  int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) fail("fsopen", errno, "overlay");
  // Each clone stays open until the overlay exists: closing the last fd of a
  // detached mount dissolves it, and overlayfs clones the layers at create.
  int *layers = static_cast<int *>(calloc(size_t(n), sizeof(int)));
  if (!layers) fail("calloc", ENOMEM, "");
  for (long i = 0; i < n; i++) {
    int layer = layers[i] = idmapped(arg(op, 9 + int(i)), userns, false);
    if (fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", nullptr, layer) < 0) fail_fs(fs, "fsconfig", errno, arg(op, 9 + int(i)));
  }
  close(userns);
  if (*upper) {
    if (owner_uid >= 0 && chown(upper, uid_t(owner_uid), gid_t(owner_gid)) < 0) fail("chown", errno, upper);
    set_string(fs, "upperdir", upper);
    set_string(fs, "workdir", work);
  }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) fail_fs(fs, "fsconfig", errno, upper);
  g_prepared = fsmount(fs, FSMOUNT_CLOEXEC, readonly ? MOUNT_ATTR_RDONLY : 0);
  if (g_prepared < 0) fail_fs(fs, "fsmount", errno, upper);
  close(fs);
  for (long i = 0; i < n; i++) close(layers[i]);
  free(layers);
}

// overlayattach target: the overlayprep mount at target, in this mount namespace.
void op_overlayattach(const Op &op) {
  const char *target = arg(op, 0);
  if (g_prepared < 0) fail_arg("overlayattach without overlayprep");
  if (move_mount(g_prepared, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail("move_mount", errno, target);
  close(g_prepared);
  g_prepared = -1;
}

}  // namespace setup

// Mount primitives. Targets inside the container are resolved in its root
// (resolve.cc); binds and attribute changes use the fd-based mount API.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

static bool in_root(const Op &op, int i) { return strcmp(arg(op, i), "root") == 0; }

static Create create_kind(const char *s) {
  if (strcmp(s, "dir") == 0) return CREATE_DIR;
  if (strcmp(s, "file") == 0) return CREATE_FILE;
  return CREATE_NONE;
}

// A target for mount(2): in the root, an O_PATH fd seen through /proc/self/fd.
struct Target {
  int fd = -1;
  char path[4096];
  ~Target() {
    if (fd >= 0) close(fd);
  }
};

static void open_target(Target &t, const char *path, bool root, Create create) {
  if (!root) {
    snprintf(t.path, sizeof t.path, "%s", path);
    return;
  }
  t.fd = open_in_root(path, create, true);
  if (t.fd < 0) fail("open", errno, path);
  proc_fd_path(t.fd, t.path, sizeof t.path);
}

// mount source target fstype flags data where create
void op_mount(const Op &op) {
  const char *src = arg(op, 0), *target = arg(op, 1), *type = arg(op, 2), *data = arg(op, 4);
  Target t;
  open_target(t, target, in_root(op, 5), create_kind(arg(op, 6)));
  if (mount(*src ? src : nullptr, t.path, *type ? type : nullptr, arg_u64(op, 3), *data ? data : nullptr) < 0)
    fail("mount", errno, target);
}

static int setattr_fd(int fd, uint64_t set, uint64_t clr, uint64_t prop, bool recursive) {
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = set;
  attr.attr_clr = clr;
  attr.propagation = prop;
  return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

// bind source target recursive create attr_set attr_clr rattr_set rattr_clr propagation prop_recursive
// (attr_* apply to the top mount only, rattr_* to every mount of the tree)
void op_bind(const Op &op) {
  const char *src = arg(op, 0), *target = arg(op, 1);
  bool rec = arg_long(op, 2) != 0;
  int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (tree < 0) fail("open_tree", errno, src);
  Create create = create_kind(arg(op, 3));
  if (strcmp(arg(op, 3), "auto") == 0) {
    struct stat st;
    if (fstat(tree, &st) < 0) fail("fstat", errno, src);
    create = S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE;
  }
  uint64_t set = arg_u64(op, 4), clr = arg_u64(op, 5), rset = arg_u64(op, 6), rclr = arg_u64(op, 7);
  uint64_t prop = arg_u64(op, 8);
  if ((rset || rclr) && setattr_fd(tree, rset, rclr, 0, true) < 0) fail("mount_setattr", errno, target);
  if ((set || clr) && setattr_fd(tree, set, clr, 0, false) < 0) fail("mount_setattr", errno, target);
  int fd = open_in_root(target, create, true);
  if (fd < 0) fail("open", errno, target);
  if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail("move_mount", errno, target);
  close(fd);
  if (prop && setattr_fd(tree, 0, 0, prop, arg_long(op, 9) != 0) < 0) fail("mount_setattr", errno, target);
  close(tree);
}

// setattr target where attr_set attr_clr propagation recursive
void op_setattr(const Op &op) {
  const char *target = arg(op, 0);
  int fd = in_root(op, 1) ? open_in_root(target, CREATE_NONE, true) : open(target, O_PATH | O_CLOEXEC);
  if (fd < 0) fail("open", errno, target);
  if (setattr_fd(fd, arg_u64(op, 2), arg_u64(op, 3), arg_u64(op, 4), arg_long(op, 5) != 0) < 0)
    fail("mount_setattr", errno, target);
  close(fd);
}

// mkdir path mode: creates a missing directory (and its parents) with
// `mode`; an existing one is left as it is.
void op_mkdir(const Op &op) {
  const char *path = arg(op, 0);
  int fd = open_in_root(path, CREATE_NONE, true);
  if (fd >= 0) {
    close(fd);
    return;
  }
  fd = open_in_root(path, CREATE_DIR, true);
  if (fd < 0) fail("mkdir", errno, path);
  char p[64];
  proc_fd_path(fd, p, sizeof p);
  if (chmod(p, mode_t(arg_u64(op, 1))) < 0) fail("chmod", errno, path);
  close(fd);
}

// mknod path mode major minor uid gid (mode includes the file type bits)
void op_mknod(const Op &op) {
  const char *path = arg(op, 0), *base;
  int parent = open_parent_in_root(path, &base);
  dev_t dev = makedev(unsigned(arg_u64(op, 2)), unsigned(arg_u64(op, 3)));
  if (mknodat(parent, base, mode_t(arg_u64(op, 1)), dev) < 0 && errno != EEXIST) fail("mknod", errno, path);
  if (fchownat(parent, base, uid_t(arg_u64(op, 4)), gid_t(arg_u64(op, 5)), AT_SYMLINK_NOFOLLOW) < 0)
    fail("chown", errno, path);
  close(parent);
}

// symlink target linkpath
void op_symlink(const Op &op) {
  const char *path = arg(op, 1), *base;
  int parent = open_parent_in_root(path, &base);
  if (symlinkat(arg(op, 0), parent, base) < 0 && errno != EEXIST) fail("symlink", errno, path);
  close(parent);
}

// mask path: an empty read-only tmpfs over a directory, /dev/null over
// anything else; a path that does not exist is left alone.
void op_mask(const Op &op) {
  const char *path = arg(op, 0);
  int fd = open_in_root(path, CREATE_NONE, true);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) fail("open", errno, path);
  struct stat st;
  if (fstat(fd, &st) < 0) fail("fstat", errno, path);
  int m;
  if (S_ISDIR(st.st_mode)) {
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) fail("fsopen", errno, path);
    if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
      fail("fsconfig", errno, path);
    m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (m < 0) fail("fsmount", errno, path);
    close(fs);
  } else {
    m = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (m < 0) fail("open_tree", errno, "/dev/null");
  }
  if (move_mount(m, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail("move_mount", errno, path);
  close(m);
  close(fd);
}

// readonly path: bind the path onto itself, read-only (recursively).
void op_readonly(const Op &op) {
  const char *path = arg(op, 0);
  int fd = open_in_root(path, CREATE_NONE, true);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) fail("open", errno, path);
  int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (tree < 0) fail("open_tree", errno, path);
  if (setattr_fd(tree, MOUNT_ATTR_RDONLY, 0, 0, true) < 0) fail("mount_setattr", errno, path);
  if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail("move_mount", errno, path);
  close(tree);
  close(fd);
}

static uint64_t mnt_id(const char *path) {
  // glibc's struct statx hides stx_mnt_id in padding: read the kernel layout.
  alignas(8) unsigned char buf[256];
  memset(buf, 0, sizeof buf);
  if (syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, buf) < 0) fail("statx", errno, path);
  uint64_t id;
  memcpy(&id, buf + 144, sizeof id);
  return id;
}

// parentprivate path: makes the mount that holds `path` private, so that
// pivot_root accepts it and our mounts do not propagate out of it.
void op_parentprivate(const Op &op) {
  char p[4096];
  snprintf(p, sizeof p, "%s", arg(op, 0));
  uint64_t id = mnt_id(p);
  for (;;) {
    char *slash = strrchr(p, '/');
    if (!slash || slash == p) {
      char parent[2] = "/";
      if (strcmp(p, "/") != 0 && mnt_id(parent) == id) strcpy(p, "/");
      break;
    }
    *slash = '\0';
    if (mnt_id(p) != id) {
      *slash = '/';
      break;
    }
  }
  if (mount(nullptr, p, nullptr, MS_PRIVATE, nullptr) < 0) fail("mount", errno, p);
}

// rootfs path: from now on, container paths resolve below `path`.
void op_rootfs(const Op &op) {
  int fd = open(arg(op, 0), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open", errno, arg(op, 0));
  if (g_root_fd >= 0) close(g_root_fd);
  g_root_fd = fd;
}

static void reset_root() {
  if (g_root_fd >= 0) close(g_root_fd);
  g_root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root_fd < 0) fail("open", errno, "/");
}

// pivot: the root becomes the container's; the old root is detached.
void op_pivot(const Op &) {
  int oldroot = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (oldroot < 0) fail("open", errno, "/");
  if (fchdir(g_root_fd) < 0) fail("fchdir", errno, ".");
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", errno, ".");
  // Stacked on the new root now: make the old root (not the new one) a
  // slave, so that detaching it does not propagate to the host.
  if (fchdir(oldroot) < 0) fail("fchdir", errno, "/");
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) fail("mount", errno, "/");
  if (umount2(".", MNT_DETACH) < 0) fail("umount2", errno, "/");
  if (chdir("/") < 0) fail("chdir", errno, "/");
  close(oldroot);
  reset_root();
}

// chroot: for a root that cannot be pivoted (no mount namespace or an
// initramfs), move it over / and chroot into it.
void op_chroot(const Op &) {
  if (fchdir(g_root_fd) < 0) fail("fchdir", errno, ".");
  if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0 && errno != EINVAL) fail("mount", errno, "/");
  if (chroot(".") < 0) fail("chroot", errno, ".");
  if (chdir("/") < 0) fail("chdir", errno, "/");
  reset_root();
}

}  // namespace setup

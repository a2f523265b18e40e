// Path work inside the container's root goes through openat2(RESOLVE_IN_ROOT)
// relative to a directory fd, so a symlink in an image cannot lead outside.
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

int g_root_fd = -1;

static int root_fd() {
  if (g_root_fd < 0) {
    g_root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (g_root_fd < 0) fail("open", errno, "/");
  }
  return g_root_fd;
}

static int openat2_in_root(const char *path, int flags, bool follow) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = uint64_t(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  while (*path == '/') path++;
  if (*path == '\0') path = ".";
  int fd;
  do fd = int(syscall(SYS_openat2, root_fd(), path, &how, sizeof how));
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

void proc_fd_path(int fd, char *buf, size_t len) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

// Creates every missing directory of `path` (mkdir -p), each resolved in root.
static void mkdir_parents(const char *path, bool include_last) {
  char buf[4096];
  size_t len = strlen(path);
  if (len >= sizeof buf) fail("open", ENAMETOOLONG, path);
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i] == '\0' && !include_last) break;
    char saved = buf[i];
    buf[i] = '\0';
    int fd = openat2_in_root(buf, O_PATH | O_DIRECTORY, true);
    if (fd < 0 && errno == ENOENT) {
      const char *base;
      int parent = open_parent_in_root(buf, &base);
      if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST) fail("mkdir", errno, buf);
      close(parent);
    } else if (fd < 0) {
      fail("open", errno, buf);
    } else {
      close(fd);
    }
    buf[i] = saved;
  }
}

int open_parent_in_root(const char *path, const char **base) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash) {
    strcpy(dir, "/");
    *base = path;
  } else {
    size_t n = size_t(slash - path);
    if (n >= sizeof dir) fail("open", ENAMETOOLONG, path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    *base = slash + 1;
  }
  int fd = openat2_in_root(dir, O_PATH | O_DIRECTORY, true);
  if (fd < 0) fail("open", errno, dir[0] ? dir : "/");
  return fd;
}

int open_in_root(const char *path, Create create, bool follow) {
  int fd = openat2_in_root(path, O_PATH, follow);
  if (fd >= 0 || errno != ENOENT || create == CREATE_NONE) return fd;
  mkdir_parents(path, create == CREATE_DIR);
  if (create == CREATE_FILE) {
    const char *base;
    int parent = open_parent_in_root(path, &base);
    int f = openat(parent, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST) fail("open", errno, path);
    if (f >= 0) close(f);
    close(parent);
  }
  return openat2_in_root(path, O_PATH, follow);
}

}  // namespace setup

// Shared by the addon (native/addon) and the CLI front (native/front): a
// message with fds attached (SCM_RIGHTS) each way, and a posix_spawn whose
// child gets exactly the fds asked for. Header-only: each program compiles
// its own copy. Calls the kernel and returns errno values; no policy.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace berth::fdpass {

constexpr size_t kMaxFds = 253;  // SCM_MAX_FD

// One sendmsg of `len` bytes with `fds` attached; 0 or an errno. Retries EINTR.
inline int Send(int sock, const void *data, size_t len, const std::vector<int> &fds) {
  if (fds.size() > kMaxFds) return EINVAL;
  iovec iov = {const_cast<void *>(data), len};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    m.msg_control = control.data();
    m.msg_controllen = control.size();
    cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = sendmsg(sock, &m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

// One recvmsg into buf; the fds that came with it are appended to *fds
// (O_CLOEXEC). Returns the byte count (0 at end of stream) or -errno.
// *truncated says whether data or fds were cut.
inline ssize_t Recv(int sock, void *buf, size_t len, std::vector<int> *fds, int flags, bool *truncated) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  iovec iov = {buf, len};
  msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control.data();
  m.msg_controllen = control.size();
  ssize_t n;
  do n = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds->push_back(fd);
    }
  }
  if (truncated) *truncated = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
  return n;
}

// posix_spawn of `path` with fds[i] as the child's fd i and no other fd,
// an empty signal mask, default dispositions and an empty environment.
// Returns 0 (and *pid) or an errno.
inline int Spawn(const char *path, char *const argv[], const std::vector<int> &fds, pid_t *pid) {
  // Move every source above the targets first, so no dup2 clobbers one.
  std::vector<int> tmp;
  int err = 0;
  for (size_t i = 0; i < fds.size() && !err; i++) {
    int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, int(fds.size()) + 3);
    if (fd < 0) err = errno;
    else tmp.push_back(fd);
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  for (size_t i = 0; i < tmp.size(); i++) posix_spawn_file_actions_adddup2(&fa, tmp[i], int(i));
  posix_spawn_file_actions_addclosefrom_np(&fa, int(fds.size()));
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char *envp[] = {nullptr};
  if (!err) err = posix_spawn(pid, path, &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  for (int fd : tmp) close(fd);
  return err;
}

}  // namespace berth::fdpass

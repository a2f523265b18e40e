// Namespaces: join by path, unshare, the user-namespace handshake, and the
// fork into the container process, after which this process is its monitor.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

// join n (flag path)...: opens every path first (a later setns into a mount
// namespace could hide the others), then joins in the order given.
void op_join(const Op &op) {
  long n = arg_long(op, 0);
  int fds[16];
  if (n < 0 || n > 16 || op.argc != 1 + 2 * n) fail_arg("join: bad count");
  for (long i = 0; i < n; i++) {
    const char *path = arg(op, int(2 + 2 * i));
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail("open", errno, path);
  }
  for (long i = 0; i < n; i++) {
    if (setns(fds[i], int(arg_long(op, int(1 + 2 * i)))) < 0) fail("setns", errno, arg(op, int(2 + 2 * i)));
    close(fds[i]);
  }
}

void op_unshare(const Op &op) {
  if (unshare(int(arg_long(op, 0))) < 0) fail("unshare", errno, "");
}

// sync name: tells Node our pid and waits for its answer, e.g. while it
// writes the uid/gid maps of the user namespace we just made.
void op_sync(const Op &op) {
  send_pid(g_report_fd, "sync", getpid(), arg(op, 0));
  char c;
  ssize_t n;
  do n = read(g_sync_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) fail("read", n < 0 ? errno : EPIPE, arg(op, 0));
  if (c != 'A') _exit(127);  // Node gave up and reported the error itself.
}

void op_setid0(const Op &) {
  if (setresgid(0, 0, 0) < 0) fail("setresgid", errno, "");
  if (setresuid(0, 0, 0) < 0) fail("setresuid", errno, "");
}

static volatile pid_t g_child = 0;

static void forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

// Relays the container's messages (exec pipe) to the sync socket; returns
// true if the container process exec'd (the pipe closed with no error).
static bool relay(int from) {
  char buf[8192];
  size_t have = 0;
  bool error = false;
  for (;;) {
    ssize_t n = read(from, buf + have, sizeof buf - 1 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += size_t(n);
    buf[have] = '\0';
    char *nl;
    while ((nl = strchr(buf, '\n'))) {
      size_t line = size_t(nl - buf) + 1;
      if (strncmp(buf, "{\"t\":\"error\"", 12) == 0) error = true;
      char saved = buf[line];
      buf[line] = '\0';
      send_line(g_sync_fd, buf);
      buf[line] = saved;
      memmove(buf, buf + line, have - line + 1);
      have -= line;
    }
    if (have == sizeof buf - 1) have = 0;  // a line too long: drop it
  }
  return !error;
}

// clone3's arguments: linux/sched.h's struct clone_args up to `cgroup`
// (CLONE_ARGS_SIZE_VER2), spelled out so that no kernel header is needed.
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

// What clone3 says when this kernel, or this caller, cannot create a process
// in a cgroup: no clone3 (< 5.3), no CLONE_INTO_CGROUP (< 5.7, E2BIG for the
// longer struct), not a cgroup2 directory, or no write permission on it (as
// from inside a user namespace). Then the fallback below does it in two steps.
static bool clone3_unavailable(int err) {
  return err == ENOSYS || err == E2BIG || err == EINVAL || err == EOPNOTSUPP || err == EBADF || err == EPERM || err == EACCES;
}

// Waits for one byte on fd; true if it is 'A'.
static bool read_ack(int fd) {
  char c = 0;
  ssize_t n;
  do n = read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 && c == 'A';
}

// fork(), or with CLONE_NEWPID among `flags` a child that is pid 1 of a new
// pid namespace; the other flags are the child's to unshare (late).
static pid_t fork_with(uint64_t flags) {
  if (!(flags & CLONE_NEWPID)) return fork();
  return pid_t(syscall(SYS_clone, SIGCHLD | CLONE_NEWPID, nullptr, nullptr, nullptr, nullptr));
}

// The container process, in its cgroup from its first instruction:
// clone3(CLONE_INTO_CGROUP | flags) into the directory `cgfd`. The new pid
// namespace is made by the same call: a failed first fork into a pid
// namespace unshared beforehand would leave it unusable (ENOMEM). Where the
// kernel cannot, a plain fork: the child waits on *gate while the monitor
// asks Node (sync "cgroup" with the child's pid) to write it into
// cgroup.procs; the child then unshares the other flags itself (*late), so
// that a new cgroup namespace is still rooted at the container's cgroup.
// Returns the child's pid in the monitor, 0 in the child.
static pid_t spawn_into_cgroup(int cgfd, uint64_t flags, int *gate_out, bool *late) {
  CloneArgs ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = CLONE_INTO_CGROUP | flags;
  ca.exit_signal = SIGCHLD;
  ca.cgroup = uint64_t(cgfd);
  long r = syscall(SYS_clone3, &ca, sizeof ca);
  if (r >= 0) {
    close(cgfd);
    return pid_t(r);
  }
  if (!clone3_unavailable(errno)) {
    int err = errno;
    char link[32], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", cgfd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    fail("clone3", err, path);
  }
  close(cgfd);
  *late = true;
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) fail("pipe2", errno, "");
  pid_t pid = fork_with(flags);
  if (pid < 0) fail("clone", errno, "");
  if (pid == 0) {
    close(gate[1]);
    *gate_out = gate[0];
    return 0;
  }
  close(gate[0]);
  send_pid(g_sync_fd, "sync", pid, "cgroup");
  if (!read_ack(g_sync_fd)) {  // Node gave up and reported the error itself.
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    _exit(127);
  }
  if (write(gate[1], "A", 1) != 1) fail("write", errno, "");
  close(gate[1]);
  return pid;
}

// fork detach pidack cgroupfd flags: the child carries on with the
// remaining ops as the container process; this process stays, forwards
// signals, relays messages and reports the exit (see ../protocol.md), then
// exits with the same status. With detach=1 it exits as soon as the
// container process has exec'd or stopped talking (waiting on its exec
// fifo), so that the container is reparented to the caller's subreaper
// (conmon, the containerd shim), as with runc.
//
// pidack=1 (the container does not wait for start): Node opens a pidfd on
// the pid we report, so we reap the container process only after Node says
// it has it ('P'), lest it open a recycled pid.
//
// cgroupfd >= 0: the fd of the container's cgroup directory (cgroup v2):
// the child is created in it and this process stays outside. `flags`: the
// namespaces made with the child (CLONE_NEWPID, CLONE_NEWCGROUP: then the
// cgroup namespace is rooted at the container's cgroup).
void op_fork(const Op &op) {
  bool detach = arg_long(op, 0) != 0;
  bool pidack = arg_long(op, 1) != 0;
  int cgfd = int(arg_long(op, 2));
  uint64_t flags = arg_u64(op, 3);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) fail("pipe2", errno, "");
  int gate = -1;
  bool late = cgfd < 0;
  pid_t pid = cgfd >= 0 ? spawn_into_cgroup(cgfd, flags, &gate, &late) : fork_with(flags);
  if (pid < 0) fail("clone", errno, "");
  if (pid == 0) {
    close(pipefd[0]);
    g_report_fd = pipefd[1];
    if (gate >= 0 && !read_ack(gate)) _exit(127);
    if (gate >= 0) close(gate);
    uint64_t rest = flags & ~uint64_t(CLONE_NEWPID);
    if (late && rest && unshare(int(rest)) < 0) fail("unshare", errno, "");
    return;
  }
  close(pipefd[1]);
  g_child = pid;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  for (int s : sigs) sigaction(s, &sa, nullptr);
  send_pid(g_sync_fd, "pid", pid, "");
  bool ok = relay(pipefd[0]);
  close(pipefd[0]);
  if (ok && detach) {
    send_line(g_sync_fd, "{\"t\":\"detached\"}\n");
    _exit(0);
  }
  if (ok) send_line(g_sync_fd, "{\"t\":\"started\"}\n");
  if (pidack) {
    char c;
    while (read(g_sync_fd, &c, 1) < 0 && errno == EINTR) {
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  char line[96];
  int code;
  if (WIFSIGNALED(status)) {
    snprintf(line, sizeof line, "{\"t\":\"exit\",\"signal\":%d,\"core\":%s}\n", WTERMSIG(status),
             WCOREDUMP(status) ? "true" : "false");
    code = 128 + WTERMSIG(status);
  } else {
    snprintf(line, sizeof line, "{\"t\":\"exit\",\"code\":%d}\n", WEXITSTATUS(status));
    code = WEXITSTATUS(status);
  }
  send_line(g_sync_fd, line);
  _exit(code);
}

}  // namespace setup

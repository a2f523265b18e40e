// OCI hooks run by the container process itself (createContainer before
// pivot_root, startContainer after start): fork, exec the hook with the
// container's state on stdin, wait with a timeout. createRuntime and
// prestart run in Node at a `sync` point instead.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

static long g_host_pid = 0;

// hostpid: records our pid as the host sees it, while the host's /proc is
// still mounted (before pivot_root); hooks report it in the state.
void op_hostpid(const Op &) {
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  if (n <= 0) fail("readlink", errno, "/proc/self");
  buf[n] = '\0';
  g_host_pid = atol(buf);
}

static void write_all(int fd, const char *s) {
  size_t len = strlen(s);
  while (len > 0) {
    ssize_t n = write(fd, s, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the hook does not read its stdin: fine
    s += n;
    len -= size_t(n);
  }
}

// hook path argc argv... envc env... timeout state_before_pid state_after_pid
void op_hook(const Op &op) {
  const char *path = arg(op, 0);
  long argc = arg_long(op, 1);
  long envc = arg_long(op, int(2 + argc));
  if (argc < 0 || envc < 0 || op.argc != 6 + argc + envc) fail_arg("hook: bad counts");
  char **argv = static_cast<char **>(calloc(size_t(argc + 2), sizeof(char *)));
  char **envp = static_cast<char **>(calloc(size_t(envc + 1), sizeof(char *)));
  for (long i = 0; i < argc; i++) argv[i] = const_cast<char *>(arg(op, int(2 + i)));
  if (argc == 0) argv[0] = const_cast<char *>(path);
  for (long i = 0; i < envc; i++) envp[i] = const_cast<char *>(arg(op, int(3 + argc + i)));
  long timeout = arg_long(op, int(3 + argc + envc));
  char pid[24];
  snprintf(pid, sizeof pid, "%ld", g_host_pid);

  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail("pipe2", errno, path);
  pid_t child = fork();
  if (child < 0) fail("fork", errno, path);
  if (child == 0) {
    dup2(in[0], 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(path, argv, envp);
    _exit(127);
  }
  close(in[0]);
  signal(SIGPIPE, SIG_IGN);
  write_all(in[1], arg(op, int(4 + argc + envc)));
  write_all(in[1], pid);
  write_all(in[1], arg(op, int(5 + argc + envc)));
  close(in[1]);
  signal(SIGPIPE, SIG_DFL);

  int pfd = int(syscall(SYS_pidfd_open, child, 0));
  if (pfd >= 0 && timeout > 0) {
    struct pollfd p = {pfd, POLLIN, 0};
    int r;
    do r = poll(&p, 1, int(timeout * 1000));
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      fail("hook", ETIMEDOUT, path);
    }
  }
  if (pfd >= 0) close(pfd);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  char detail[64];
  if (WIFEXITED(status)) snprintf(detail, sizeof detail, "exit status %d", WEXITSTATUS(status));
  else snprintf(detail, sizeof detail, "killed by signal %d", WTERMSIG(status));
  fail_detail("hook", ECANCELED, path, detail);
}

}  // namespace setup

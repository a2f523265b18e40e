// stubinit: a minimal init, as systemd-nspawn's --as-pid2 has it. This
// process (pid 1 of the container's pid namespace) forks: the child goes on
// with the plan and becomes the payload, pid 2, which needs none of an
// init's duties; this one stays as pid 1. It holds no fd (so Node sees the
// payload's exec through the report fd), reaps every process that ends up
// its child, passes every signal it gets on to the payload, and when the
// payload ends exits with its status: its exit code, or 128+N for signal N
// (pid 1 cannot die of a signal of its own). The rest of the namespace dies
// with it. It keeps one capability, CAP_KILL (the payload may become
// another user), and takes no_new_privs: it runs nothing but this loop.
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

void op_stubinit(const Op &) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);  // blocked signals are queued, even for a namespace's init
  // Without a pid namespace of its own it is not pid 1: orphans come to it all the same.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  pid_t payload = fork();
  if (payload < 0) fail("fork", errno, nullptr);
  if (payload == 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return;
  }
  syscall(SYS_close_range, 0u, ~0u, 0u);
  prctl(PR_SET_NAME, "berth-init");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct caps[2] = {};
  caps[0].effective = caps[0].permitted = 1u << CAP_KILL;
  syscall(SYS_capset, &hdr, caps);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;  // EINTR
    if (sig != SIGCHLD) {
      kill(payload, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p == payload) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

}  // namespace setup

// berth-setup SYNC_FD: reads the plan from the sync socket and runs its ops
// in order. See ../protocol.md for the messages and ../README.md for why
// this is a separate, single-threaded executable.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "setup.h"

using namespace setup;

struct Entry {
  const char *name;
  OpFn fn;
};

static const Entry kOps[] = {
    {"join", op_join},       {"unshare", op_unshare},
    {"sync", op_sync},       {"setid0", op_setid0},
    {"fork", op_fork},       {"mount", op_mount},
    {"bind", op_bind},       {"setattr", op_setattr},
    {"mkdir", op_mkdir},     {"mknod", op_mknod},
    {"symlink", op_symlink}, {"mask", op_mask},
    {"readonly", op_readonly}, {"parentprivate", op_parentprivate},
    {"rootfs", op_rootfs},   {"pivot", op_pivot},
    {"chroot", op_chroot},   {"hostname", op_hostname},
    {"domainname", op_domainname}, {"sysctl", op_sysctl},
    {"rlimit", op_rlimit},   {"oomscore", op_oomscore},
    {"chdir", op_chdir},     {"umask", op_umask},
    {"bounding", op_bounding}, {"keepcaps", op_keepcaps},
    {"user", op_user},       {"caps", op_caps},
    {"nnp", op_nnp},         {"seccomp", op_seccomp},
    {"closefds", op_closefds}, {"ready", op_ready},
    {"openfifo", op_openfifo}, {"checkexec", op_checkexec},
    {"console", op_console}, {"pty", op_pty},
    {"hostpid", op_hostpid}, {"hook", op_hook},
    {"exec", op_exec},       {"overlay", op_overlay},
    {"overlayprep", op_overlayprep}, {"overlayattach", op_overlayattach},
    {"stubinit", op_stubinit},
};

int main(int argc, char **argv) {
  if (argc != 2) return 125;
  int fd = atoi(argv[1]);
  if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return 125;
  g_sync_fd = g_report_fd = fd;
  umask(0);
  Op *ops;
  int nops;
  if (!read_plan(fd, &ops, &nops)) fail_arg("malformed plan");
  for (int i = 0; i < nops; i++) {
    g_op = &ops[i];
    const Entry *e = nullptr;
    for (const Entry &k : kOps)
      if (strcmp(k.name, ops[i].name) == 0) e = &k;
    if (!e) fail_arg("unknown op");
    e->fn(ops[i]);
  }
  g_op = nullptr;
  fail_arg("plan ended without exec");
}

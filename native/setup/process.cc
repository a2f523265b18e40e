// The container process's own settings, applied after the root is in place,
// and the final exec.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

void op_hostname(const Op &op) {
  const char *name = arg(op, 0);
  if (sethostname(name, strlen(name)) < 0) fail("sethostname", errno, name);
}

void op_domainname(const Op &op) {
  const char *name = arg(op, 0);
  if (setdomainname(name, strlen(name)) < 0) fail("setdomainname", errno, name);
}

static void write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open", errno, path);
  size_t len = strlen(value);
  if (write(fd, value, len) != ssize_t(len)) fail("write", errno, path);
  close(fd);
}

// sysctl path value: path is below /proc/sys, already in slash form.
void op_sysctl(const Op &op) {
  char path[4096];
  snprintf(path, sizeof path, "/proc/sys/%s", arg(op, 0));
  write_file(path, arg(op, 1));
}

// rlimit resource soft hard
void op_rlimit(const Op &op) {
  struct rlimit64 rl;
  rl.rlim_cur = arg_u64(op, 1);
  rl.rlim_max = arg_u64(op, 2);
  if (prlimit64(0, __rlimit_resource(arg_long(op, 0)), &rl, nullptr) < 0) fail("prlimit", errno, arg(op, 0));
}

void op_oomscore(const Op &op) { write_file("/proc/self/oom_score_adj", arg(op, 0)); }

void op_chdir(const Op &op) {
  if (chdir(arg(op, 0)) < 0) fail("chdir", errno, arg(op, 0));
}

void op_umask(const Op &op) { umask(mode_t(arg_u64(op, 0))); }

// bounding mask: drops every capability not in mask from the bounding set.
void op_bounding(const Op &op) {
  uint64_t keep = arg_u64(op, 0);
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break;  // past the last one
    if (keep & (uint64_t(1) << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail("prctl", errno, "PR_CAPBSET_DROP");
  }
}

void op_keepcaps(const Op &) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("prctl", errno, "PR_SET_KEEPCAPS");
}

// user uid gid n gid...
void op_user(const Op &op) {
  long n = arg_long(op, 2);
  if (n < 0 || n > 65536 || op.argc != 3 + n) fail_arg("user: bad group count");
  gid_t *gids = static_cast<gid_t *>(malloc(sizeof(gid_t) * size_t(n + 1)));
  for (long i = 0; i < n; i++) gids[i] = gid_t(arg_u64(op, int(3 + i)));
  if (setgroups(size_t(n), gids) < 0 && !(errno == EPERM && n == 0)) fail("setgroups", errno, "");
  gid_t gid = gid_t(arg_u64(op, 1));
  uid_t uid = uid_t(arg_u64(op, 0));
  if (setresgid(gid, gid, gid) < 0) fail("setresgid", errno, arg(op, 1));
  if (setresuid(uid, uid, uid) < 0) fail("setresuid", errno, arg(op, 0));
  free(gids);
}

// caps effective permitted inheritable ambient (64-bit masks)
void op_caps(const Op &op) {
  uint64_t e = arg_u64(op, 0), p = arg_u64(op, 1), i = arg_u64(op, 2), a = arg_u64(op, 3);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  data[0] = {uint32_t(e), uint32_t(p), uint32_t(i)};
  data[1] = {uint32_t(e >> 32), uint32_t(p >> 32), uint32_t(i >> 32)};
  if (syscall(SYS_capset, &hdr, data) < 0) fail("capset", errno, "");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    fail("prctl", errno, "PR_CAP_AMBIENT_CLEAR_ALL");
  for (int cap = 0; cap < 64; cap++) {
    if (!(a & (uint64_t(1) << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) fail("prctl", errno, "PR_CAP_AMBIENT_RAISE");
  }
}

void op_nnp(const Op &) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl", errno, "PR_SET_NO_NEW_PRIVS");
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// seccomp flags hex: a compiled classic-BPF filter (struct sock_filter[]).
void op_seccomp(const Op &op) {
  const char *hex = arg(op, 1);
  size_t len = strlen(hex) / 2;
  if (len == 0 || len % sizeof(struct sock_filter)) fail_arg("seccomp: bad program");
  unsigned char *prog = static_cast<unsigned char *>(malloc(len));
  for (size_t k = 0; k < len; k++) {
    int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
    if (hi < 0 || lo < 0) fail_arg("seccomp: bad hex");
    prog[k] = static_cast<unsigned char>(hi << 4 | lo);
  }
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(len / sizeof(struct sock_filter));
  fprog.filter = reinterpret_cast<struct sock_filter *>(prog);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, unsigned(arg_u64(op, 0)), &fprog) < 0)
    fail("seccomp", errno, "");
}

// closefds from: every fd from `from` up closes on exec. Without
// close_range (an old kernel, or a filter that refuses it), each open fd in
// /proc/self/fd is marked instead.
void op_closefds(const Op &op) {
  unsigned from = unsigned(arg_u64(op, 0));
  if (syscall(SYS_close_range, from, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0) return;
  if (errno != ENOSYS && errno != EPERM && errno != EINVAL) fail("close_range", errno, "");
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail("open", errno, "/proc/self/fd");
  char buf[4096];
  long n;
  while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64 *d = reinterpret_cast<struct dirent64 *>(buf + off);
      off += d->d_reclen;
      int fd = atoi(d->d_name);
      if (d->d_name[0] < '0' || d->d_name[0] > '9' || unsigned(fd) < from || fd == dir) continue;
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  close(dir);
}

static int g_fifo_fd = -1;

// openfifo path: keeps the exec fifo at hand (O_PATH) for `ready fifo`,
// which runs after pivot_root, when the path is out of reach.
void op_openfifo(const Op &op) {
  g_fifo_fd = open(arg(op, 0), O_PATH | O_CLOEXEC);
  if (g_fifo_fd < 0) fail("open", errno, arg(op, 0));
}

// checkexec name PATH: fails now, as exec would later, if `name` cannot be
// executed; for containers whose start happens when nobody listens.
void op_checkexec(const Op &op) {
  const char *name = arg(op, 0), *pathvar = arg(op, 1);
  struct stat st;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0) fail("execve", errno, name);
    if (!S_ISREG(st.st_mode) || access(name, X_OK) < 0) fail("execve", EACCES, name);
    return;
  }
  int err = ENOENT;
  char buf[4096];
  for (const char *p = pathvar; *p;) {
    const char *end = strchr(p, ':');
    size_t n = end ? size_t(end - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", int(n), n ? p : ".", name);
    if (stat(buf, &st) == 0) {
      if (S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return;
      err = EACCES;
    }
    p += n;
    if (*p == ':') p++;
  }
  fail("execve", err, name);
}

// ready socket|fifo: tells Node the container is created and waits for
// `start`: a byte on the sync socket, or (runc's model, for `create` and a
// later `start` from another process) a reader opening the exec fifo.
void op_ready(const Op &op) {
  send_line(g_report_fd, "{\"t\":\"ready\"}\n");
  if (strcmp(arg(op, 0), "fifo") == 0) {
    close(g_report_fd);
    close(g_sync_fd);
    char path[64];
    proc_fd_path(g_fifo_fd, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CLOEXEC);  // blocks until `start` opens it
    if (fd < 0 || write(fd, "0", 1) != 1) _exit(1);
    close(fd);
    close(g_fifo_fd);
    return;
  }
  char c;
  ssize_t n;
  do n = read(g_sync_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1 || c != 'S') _exit(1);
}

// exec path argc argv... envc env...: PATH is looked up in the new env.
void op_exec(const Op &op) {
  long argc = arg_long(op, 1);
  if (argc < 1 || op.argc < 2 + argc + 1) fail_arg("exec: bad argc");
  long envc = arg_long(op, int(2 + argc));
  if (envc < 0 || op.argc != 3 + argc + envc) fail_arg("exec: bad envc");
  char **argv = static_cast<char **>(malloc(sizeof(char *) * size_t(argc + 1)));
  char **envp = static_cast<char **>(malloc(sizeof(char *) * size_t(envc + 1)));
  for (long i = 0; i < argc; i++) argv[i] = const_cast<char *>(arg(op, int(2 + i)));
  argv[argc] = nullptr;
  for (long i = 0; i < envc; i++) envp[i] = const_cast<char *>(arg(op, int(3 + argc + i)));
  envp[envc] = nullptr;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const char *path = arg(op, 0);
  if (strchr(path, '/')) {
    execve(path, argv, envp);
    fail("execve", errno, path);
  }
  // PATH lookup as execvp does it, but without its fallback of running a
  // file of unknown format with /bin/sh: that is ENOEXEC, as with runc.
  const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (long i = 0; i < envc; i++)
    if (strncmp(envp[i], "PATH=", 5) == 0) search = envp[i] + 5;
  int err = ENOENT;
  char buf[4096];
  for (const char *p = search;;) {
    const char *end = strchr(p, ':');
    size_t n = end ? size_t(end - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", int(n), n ? p : ".", path);
    execve(buf, argv, envp);
    if (errno != ENOENT && errno != ENOTDIR) err = errno;
    if (errno == ENOEXEC || errno == E2BIG || errno == ENOMEM || errno == ETXTBSY) break;
    if (!end) break;
    p = end + 1;
  }
  fail("execve", err, path);
}

}  // namespace setup

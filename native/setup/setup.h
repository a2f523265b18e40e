// berth-setup: the single-threaded process that carries out a plan built in
// TypeScript (see ../protocol.md). It decides nothing: every op is one
// primitive with its arguments spelled out by the plan.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace setup {

// One op of the plan: its name, the step it belongs to (for error reports)
// and its string arguments, all pointing into the plan buffer.
struct Op {
  const char *name;
  const char *step;
  int argc;
  const char *const *argv;
  int index;
};

// Where messages go: before `fork` the sync socket to Node; in the container
// process the exec pipe that the monitor relays.
extern int g_report_fd;
extern int g_sync_fd;
extern const Op *g_op;

// Reporting (report.cc). fail() sends an error record and exits.
[[noreturn]] void fail(const char *syscall, int err, const char *path);
[[noreturn]] void fail_arg(const char *what);
[[noreturn]] void fail_detail(const char *syscall, int err, const char *path, const char *detail);
void send_line(int fd, const char *json);
void send_pid(int fd, const char *type, long pid, const char *name);

// Plan (plan.cc).
bool read_plan(int fd, Op **ops, int *nops);
uint64_t arg_u64(const Op &op, int i);
long arg_long(const Op &op, int i);
const char *arg(const Op &op, int i);

// Paths inside the container's root (resolve.cc).
extern int g_root_fd;
enum Create { CREATE_NONE, CREATE_DIR, CREATE_FILE };
int open_in_root(const char *path, Create create, bool follow);
int open_parent_in_root(const char *path, const char **base);
void proc_fd_path(int fd, char *buf, size_t len);

// Op implementations, grouped by file.
using OpFn = void (*)(const Op &);
void op_join(const Op &);
void op_unshare(const Op &);
void op_sync(const Op &);
void op_setid0(const Op &);
void op_fork(const Op &);
void op_mount(const Op &);
void op_bind(const Op &);
void op_setattr(const Op &);
void op_mkdir(const Op &);
void op_mknod(const Op &);
void op_symlink(const Op &);
void op_mask(const Op &);
void op_readonly(const Op &);
void op_parentprivate(const Op &);
void op_rootfs(const Op &);
void op_pivot(const Op &);
void op_chroot(const Op &);
void op_overlay(const Op &);
void op_overlayprep(const Op &);
void op_overlayattach(const Op &);
void op_hostname(const Op &);
void op_domainname(const Op &);
void op_sysctl(const Op &);
void op_rlimit(const Op &);
void op_oomscore(const Op &);
void op_chdir(const Op &);
void op_umask(const Op &);
void op_bounding(const Op &);
void op_keepcaps(const Op &);
void op_user(const Op &);
void op_caps(const Op &);
void op_nnp(const Op &);
void op_seccomp(const Op &);
void op_closefds(const Op &);
void op_ready(const Op &);
void op_openfifo(const Op &);
void op_checkexec(const Op &);
void op_console(const Op &);
void op_pty(const Op &);
void op_hostpid(const Op &);
void op_hook(const Op &);
void op_exec(const Op &);
void op_stubinit(const Op &);

}  // namespace setup

// berth-front: what bin/berth runs. Orchestrators start the runtime's binary
// three or four times per container, and a Node start-up costs 110-150 ms
// on a small VM, so the short verbs are served by a long-lived berth CLI
// server (src/cli/oci/server.ts) that this front talks to over a unix
// SOCK_SEQPACKET socket. The front holds no policy: it forwards argv, cwd and
// environment, writes what the server prints, spawns what the server asks it
// to spawn (so the container stays a descendant of this call, as conmon and
// the containerd shim need), reports its children's exits, and exits with
// the server's status. Anything else, or no server, runs Node directly; a
// server is then started in the background for the next calls.
// Protocol: native/front.md.
//
// usage: berth-front NODE MAIN [berth args...]
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../common/fdpass.h"

extern char **environ;

namespace {

const char *const kServed[] = {"create", "start", "state", "kill", "delete", "list", "ps", "pause", "resume", "features", "spec", "exec", nullptr};
// Passed on to the processes spawned for the server (the setup process relays
// them to the container, as with a direct `exec`).
const int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
std::vector<pid_t> g_children;
const char *const kValued[] = {"root", "log", "log-format", "rootless", "criu", nullptr};
const char *const kBools[] = {"debug", "systemd-cgroup", nullptr};
const char kDir[] = "/run/berth/.cli";
const int kHighFd = 600;  // the front's own fds sit above any fd a caller passes on

bool In(const char *const *list, const std::string &s) {
  for (; *list; list++)
    if (s == *list) return true;
  return false;
}

// The verb after runc's global flags, or "" if the server should not see this call.
std::string Verb(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--") return i + 1 < argc ? argv[i + 1] : "";
    if (a.empty() || a[0] != '-' || a == "-") return a;
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    size_t eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) name.resize(eq);
    if (In(kValued, name)) {
      if (!inline_value) i++;
    } else if (!In(kBools, name)) {
      return "";  // --help, --version, unknown: Node answers
    }
  }
  return "";
}

// SIGCHLD and the forwarded signals: blocked, read from a signalfd.
sigset_t Handled() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int s : kForwarded) sigaddset(&set, s);
  return set;
}

[[noreturn]] void RunNode(const char *node, const char *main, int argc, char **argv) {
  sigset_t set = Handled();
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  std::vector<char *> args = {const_cast<char *>(node), const_cast<char *>(main)};
  for (int i = 0; i < argc; i++) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(node, args.data());
  fprintf(stderr, "berth: cannot run %s: %s\n", node, strerror(errno));
  exit(127);
}

int High(int fd) {
  if (fd < 0) return fd;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, kHighFd);
  if (h < 0) return fd;  // a low RLIMIT_NOFILE: keep it where it is
  close(fd);
  return h;
}

// The server for this build of berth: one per bundle file (inode and mtime),
// so a rebuilt berth never talks to a server running the old code.
std::string SocketPath(const char *main) {
  struct stat st;
  if (stat(main, &st) < 0) return "";
  char name[160];
  snprintf(name, sizeof name, "%s/%d-%lx-%lx.%ld.sock", kDir, int(geteuid()), long(st.st_ino), long(st.st_mtim.tv_sec), long(st.st_mtim.tv_nsec));
  return name;
}

// Starts `node main --berth-serve SOCK` detached (own session, stdio on
// /dev/null), unless one is being started: the server takes SOCK.lock itself.
void StartServer(const char *node, const char *main, const std::string &sock) {
  mkdir("/run/berth", 0711);
  if (mkdir(kDir, 0700) < 0 && errno != EEXIST) return;
  std::string lock = sock + ".lock";
  int lfd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lfd < 0) return;
  bool free = flock(lfd, LOCK_EX | LOCK_NB) == 0;
  close(lfd);
  if (!free) return;
  pid_t pid = fork();
  if (pid != 0) return;
  setsid();
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  closefrom(3);
  const char *args[] = {node, main, "--berth-serve", sock.c_str(), nullptr};
  execv(node, const_cast<char **>(args));
  _exit(127);
}

int Connect(const std::string &path) {
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path) return -1;
  memcpy(a.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return High(fd);
}

bool Send(int sock, char type, const std::string &payload, const std::vector<int> &fds = {}) {
  std::string msg(1, type);
  msg += payload;
  return berth::fdpass::Send(sock, msg.data(), msg.size(), fds) == 0;
}

void WriteAll(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= size_t(w);
  }
}

std::vector<std::string> Split(const char *p, size_t n) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\0') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += p[i];
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// 'S' path \0 argc \0 argv... \0 fd-spec: each child fd is "N" (our fd N) or
// "rK" (the K-th fd attached). Replies 'p' with "pid" and the child's pidfd,
// or "-errno".
void Spawn(int sock, const char *p, size_t n, const std::vector<int> &got) {
  std::vector<std::string> f = Split(p, n);
  size_t argc = f.size() > 1 ? strtoul(f[1].c_str(), nullptr, 10) : 0;
  if (f.size() < 2 + argc) {
    Send(sock, 'p', std::to_string(-EINVAL));
    return;
  }
  std::vector<char *> argv;
  for (size_t i = 0; i < argc; i++) argv.push_back(f[2 + i].data());
  argv.push_back(nullptr);
  std::vector<int> src;
  int err = 0;
  for (size_t i = 2 + argc; i < f.size(); i++) {
    const std::string &s = f[i];
    size_t k = strtoul(s.c_str() + (s[0] == 'r'), nullptr, 10);
    if (s[0] == 'r' && k >= got.size()) err = EINVAL;
    src.push_back(s[0] == 'r' ? (k < got.size() ? got[k] : -1) : int(k));
  }
  pid_t pid = -1;
  if (!err) err = berth::fdpass::Spawn(f[0].c_str(), argv.data(), src, &pid);
  if (err) {
    Send(sock, 'p', std::to_string(-err));
    return;
  }
  // Not reaped before the pidfd exists (SIGCHLD is blocked and read only
  // in the loop), so the pidfd names our child.
  int pidfd = int(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    Send(sock, 'p', std::to_string(-e));
    return;
  }
  g_children.push_back(pid);
  Send(sock, 'p', std::to_string(pid), {pidfd});
  close(pidfd);
}

// Reaps our children and tells the server: 'w' "pid code signal".
void Reap(int sock) {
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1, sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    for (size_t i = 0; i < g_children.size(); i++)
      if (g_children[i] == pid) g_children.erase(g_children.begin() + long(i));
    Send(sock, 'w', std::to_string(pid) + " " + std::to_string(code) + " " + std::to_string(sig));
  }
}

std::string Request(int argc, char **argv) {
  char cwd[4096];
  std::string r = getcwd(cwd, sizeof cwd) ? cwd : "/";
  r += '\0';
  r += std::to_string(argc);
  r += '\0';
  for (int i = 0; i < argc; i++) (r += argv[i]) += '\0';
  for (char **e = environ; *e; e++) (r += *e) += '\0';
  return r;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: berth-front NODE MAIN [ARGS...]\n");
    return 2;
  }
  const char *node = argv[1], *main = argv[2];
  int nargs = argc - 3;
  char **args = argv + 3;
  const char *off = getenv("BERTH_NO_SERVER");
  if ((off && *off && strcmp(off, "0") != 0) || !In(kServed, Verb(nargs, args))) RunNode(node, main, nargs, args);
  std::string path = SocketPath(main);
  int sock = Connect(path);
  if (sock < 0) {
    if (!path.empty() && geteuid() == 0) StartServer(node, main, path);
    RunNode(node, main, nargs, args);
  }

  sigset_t handled = Handled();
  sigprocmask(SIG_BLOCK, &handled, nullptr);
  int sfd = High(signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!Send(sock, 'R', Request(nargs, args))) RunNode(node, main, nargs, args);

  bool accepted = false;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    pollfd p[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (sfd >= 0 && (p[1].revents & POLLIN)) {
      signalfd_siginfo si;
      bool chld = false;
      while (read(sfd, &si, sizeof si) == ssize_t(sizeof si)) {
        int sig = int(si.ssi_signo);
        if (sig == SIGCHLD) chld = true;
        else if (!g_children.empty())
          for (pid_t c : g_children) kill(c, sig);
        else if (sig != SIGWINCH)
          _exit(128 + sig);  // nothing of ours to pass it to: end as the signal would
      }
      if (chld) Reap(sock);
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    std::vector<int> got;
    ssize_t n = berth::fdpass::Recv(sock, buf.data(), buf.size(), &got, 0, nullptr);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    const char *d = buf.data() + 1;
    size_t len = size_t(n) - 1;
    switch (buf[0]) {
      case 'A':
        accepted = true;
        break;
      case 'B':  // busy with another call: nothing was done
        RunNode(node, main, nargs, args);
      case 'O':
        WriteAll(1, d, len);
        break;
      case 'E':
        WriteAll(2, d, len);
        break;
      case 'S':
        Spawn(sock, d, len, got);
        break;
      case 'X':
        Reap(sock);
        return atoi(std::string(d, len).c_str());
    }
    for (int fd : got) close(fd);
  }
  // The server went away. Before it took the request nothing was done: run
  // it here. After, the outcome is unknown: say so.
  if (!accepted) RunNode(node, main, nargs, args);
  fprintf(stderr, "berth: the CLI server ended during the request\n");
  return 1;
}

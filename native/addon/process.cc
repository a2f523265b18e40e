// Processes: spawn the setup executable, and watch and signal processes
// through pidfds. The exit watch is a uv_poll on the pidfd: no thread waits.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#include "../common/fdpass.h"
#include "addon.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace berth {

static int pidfd_open(pid_t pid) { return int(syscall(SYS_pidfd_open, pid, 0)); }

// spawn(path, argv, fds): starts `path` with fds[i] as its fd i and no
// other fd, default signal dispositions, an empty mask and an empty
// environment. Returns { pid, pidfd }.
static Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  Napi::Array jargv = info[1].As<Napi::Array>();
  Napi::Array jfds = info[2].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < jargv.Length(); i++) args.push_back(jargv.Get(i).As<Napi::String>());
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<int> fds;
  for (uint32_t i = 0; i < jfds.Length(); i++) fds.push_back(jfds.Get(i).As<Napi::Number>().Int32Value());
  pid_t pid = -1;
  int err = fdpass::Spawn(path.c_str(), argv.data(), fds, &pid);
  if (err) return ThrowErrno(env, err, "posix_spawn", path.c_str());

  // Safe from pid reuse: the child is ours and nobody else reaps it.
  int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return ThrowErrno(env, e, "pidfd_open");
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  return out;
}

static Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  int fd = pidfd_open(info[0].As<Napi::Number>().Int32Value());
  if (fd < 0) return ThrowErrno(info.Env(), errno, "pidfd_open");
  return Napi::Number::New(info.Env(), fd);
}

// pidfdSendSignal(pidfd, signo): false if the process has already exited.
static Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) {
    if (errno == ESRCH) return Napi::Boolean::New(info.Env(), false);
    return ThrowErrno(info.Env(), errno, "pidfd_send_signal");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// An exit watch: a uv_poll on a pidfd of our child; reaps it when readable.
struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference callback;
};

static void OnClosed(uv_handle_t *h) { delete static_cast<ExitWatch *>(h->data); }

static void OnReadable(uv_poll_t *h, int status, int) {
  ExitWatch *w = static_cast<ExitWatch *>(h->data);
  siginfo_t si = {};
  int r = status < 0 ? -1 : waitid(idtype_t(P_PIDFD), id_t(w->pidfd), &si, WEXITED | WNOHANG);
  if (r == 0 && si.si_pid == 0) return;  // not yet: spurious wake-up
  int err = r < 0 ? (status < 0 ? -status : errno) : 0;
  uv_poll_stop(h);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Object result = Napi::Object::New(env);
  if (err) {
    result.Set("error", Napi::String::New(env, strerrorname_np(err)));
  } else if (si.si_code == CLD_EXITED) {
    result.Set("code", Napi::Number::New(env, si.si_status));
  } else {
    result.Set("signal", Napi::Number::New(env, si.si_status));
  }
  Napi::FunctionReference cb = std::move(w->callback);
  uv_close(reinterpret_cast<uv_handle_t *>(h), OnClosed);
  cb.MakeCallback(env.Global(), {result});
}

// watchExit(pidfd, callback): calls callback({code} | {signal}) once the
// child behind pidfd exits, and reaps it. The pidfd stays the caller's.
static Napi::Value WatchExit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ExitWatch *w = new ExitWatch();
  w->pidfd = info[0].As<Napi::Number>().Int32Value();
  w->env = env;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  StartReadPoll(env, w, w->pidfd, OnReadable, OnClosed);
  return env.Undefined();
}

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
}

}  // namespace berth

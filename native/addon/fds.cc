// File descriptors: pipes and socket pairs for stdio and the sync channel.
// Every fd made here is O_CLOEXEC.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "addon.h"

namespace berth {

static Napi::Value Pair(Napi::Env env, int a, int b) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), Napi::Number::New(env, a));
  out.Set(uint32_t(1), Napi::Number::New(env, b));
  return out;
}

// pipe(): [readFd, writeFd]
static Napi::Value Pipe(const Napi::CallbackInfo &info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return ThrowErrno(info.Env(), errno, "pipe2");
  return Pair(info.Env(), fds[0], fds[1]);
}

// socketpair(): two connected AF_UNIX stream sockets.
static Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return ThrowErrno(info.Env(), errno, "socketpair");
  return Pair(info.Env(), fds[0], fds[1]);
}

static Napi::Value Close(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (close(fd) < 0 && errno != EINTR) return ThrowErrno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// flock(fd, exclusive, wait): true if the lock was taken (false: busy, when
// not waiting). Waiting blocks the calling thread: for the CLI only.
static Napi::Value Flock(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = (info[1].As<Napi::Boolean>() ? LOCK_EX : LOCK_SH) | (info[2].As<Napi::Boolean>() ? 0 : LOCK_NB);
  int r;
  do r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
  if (r < 0) return ThrowErrno(info.Env(), errno, "flock");
  return Napi::Boolean::New(info.Env(), true);
}

static Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  if (mkfifo(path.c_str(), mode_t(info[1].As<Napi::Number>().Uint32Value())) < 0)
    return ThrowErrno(info.Env(), errno, "mkfifo", path.c_str());
  return info.Env().Undefined();
}

// pollIn(fd, timeoutMs): true once fd is readable (a pidfd: its process has
// exited), false on timeout. Blocks: for the CLI only.
static Napi::Value PollIn(const Napi::CallbackInfo &info) {
  struct pollfd p = {info[0].As<Napi::Number>().Int32Value(), POLLIN, 0};
  int r;
  do r = poll(&p, 1, info[1].As<Napi::Number>().Int32Value());
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), errno, "poll");
  return Napi::Boolean::New(info.Env(), r > 0);
}

// setWinsize(fd, rows, cols): TIOCSWINSZ on a terminal (a pty master resizes its slave).
static Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  ws.ws_col = static_cast<unsigned short>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws) < 0) return ThrowErrno(info.Env(), errno, "ioctl", "TIOCSWINSZ");
  return info.Env().Undefined();
}

void InitFds(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("pollIn", Napi::Function::New(env, PollIn, "pollIn"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize, "setWinsize"));
}

}  // namespace berth

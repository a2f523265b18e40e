// File descriptors: pipes and socket pairs for stdio and the sync channel.
// Every fd made here is O_CLOEXEC.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

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

void InitFds(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
}

}  // namespace berth

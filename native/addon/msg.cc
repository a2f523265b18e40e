// Messages with file descriptors on AF_UNIX sockets (SCM_RIGHTS), which
// Node's net module cannot carry, and the peer's credentials: the CLI
// server (src/cli/server) and its native front (native/front) talk this way.
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "../common/fdpass.h"
#include "addon.h"

namespace berth {

// sendMsg(fd, data, fds): one message with the fds attached. Waits while the
// socket is full (the peer reads promptly; messages are small).
static Napi::Value SendMsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  std::vector<int> fds;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array a = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) fds.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  }
  for (;;) {
    int err = fdpass::Send(fd, data.Data(), data.Length(), fds);
    if (!err) return env.Undefined();
    if (err != EAGAIN) return ThrowErrno(env, err, "sendmsg");
    pollfd p = {fd, POLLOUT, 0};
    poll(&p, 1, 1000);
  }
}

// recvMsg(fd, timeoutMs): { data, fds } for the next message (data empty
// and eof true at end of stream), or null when none arrives in time
// (timeoutMs 0: do not wait). Received fds are O_CLOEXEC.
static Napi::Value RecvMsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  pollfd p = {fd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, timeout);
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, errno, "poll");
  if (r == 0) return env.Null();
  std::vector<char> buf(256 * 1024);
  std::vector<int> got;
  bool truncated = false;
  ssize_t n = fdpass::Recv(fd, buf.data(), buf.size(), &got, MSG_DONTWAIT, &truncated);
  if (n == -EAGAIN) return env.Null();
  if (n == -ECONNRESET) n = 0;
  if (n < 0) return ThrowErrno(env, int(-n), "recvmsg");
  Napi::Array fds = Napi::Array::New(env);
  for (int f : got) fds.Set(fds.Length(), Napi::Number::New(env, f));
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", Napi::Buffer<char>::Copy(env, buf.data(), size_t(n)));
  out.Set("fds", fds);
  out.Set("eof", Napi::Boolean::New(env, n == 0));
  out.Set("truncated", Napi::Boolean::New(env, truncated));
  return out;
}

// peerCred(fd): { pid, uid, gid } of the process at the other end (SO_PEERCRED).
static Napi::Value PeerCred(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ucred c = {};
  socklen_t len = sizeof c;
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_SOCKET, SO_PEERCRED, &c, &len) < 0)
    return ThrowErrno(env, errno, "getsockopt");
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, c.pid));
  out.Set("uid", Napi::Number::New(env, c.uid));
  out.Set("gid", Napi::Number::New(env, c.gid));
  return out;
}

void InitMsg(Napi::Env env, Napi::Object exports) {
  exports.Set("sendMsg", Napi::Function::New(env, SendMsg, "sendMsg"));
  exports.Set("recvMsg", Napi::Function::New(env, RecvMsg, "recvMsg"));
  exports.Set("peerCred", Napi::Function::New(env, PeerCred, "peerCred"));
}

}  // namespace berth

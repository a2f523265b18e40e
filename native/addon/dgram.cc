// Unix datagram sockets, which Node lacks: the sd_notify proxy (NOTIFY_SOCKET).
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "addon.h"

namespace berth {

static bool Address(const std::string &path, sockaddr_un *a, socklen_t *len) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (path.size() >= sizeof a->sun_path) return false;
  memcpy(a->sun_path, path.data(), path.size());
  if (path[0] == '@') a->sun_path[0] = '\0';  // abstract, as systemd allows
  *len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  return true;
}

// dgramBind(path): a bound AF_UNIX SOCK_DGRAM socket (O_CLOEXEC).
static Napi::Value Bind(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  sockaddr_un a;
  socklen_t len;
  if (!Address(path, &a, &len)) return ThrowErrno(info.Env(), ENAMETOOLONG, "bind", path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(info.Env(), errno, "socket");
  if (bind(fd, reinterpret_cast<sockaddr *>(&a), len) < 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(info.Env(), e, "bind", path.c_str());
  }
  return Napi::Number::New(info.Env(), fd);
}

// dgramRecv(fd, timeoutMs): the next datagram, or null on timeout. Blocks: CLI only.
static Napi::Value Recv(const Napi::CallbackInfo &info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  do r = poll(&p, 1, info[1].As<Napi::Number>().Int32Value());
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), errno, "poll");
  if (r == 0) return info.Env().Null();
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0) return ThrowErrno(info.Env(), errno, "recv");
  return Napi::Buffer<char>::Copy(info.Env(), buf, size_t(n));
}

// dgramSend(path, data): one datagram to the socket at path.
static Napi::Value Send(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  sockaddr_un a;
  socklen_t len;
  if (!Address(path, &a, &len)) return ThrowErrno(info.Env(), ENAMETOOLONG, "sendto", path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(info.Env(), errno, "socket");
  ssize_t n = sendto(fd, data.Data(), data.Length(), MSG_NOSIGNAL, reinterpret_cast<sockaddr *>(&a), len);
  int e = errno;
  close(fd);
  if (n < 0) return ThrowErrno(info.Env(), e, "sendto", path.c_str());
  return info.Env().Undefined();
}

void InitDgram(Napi::Env env, Napi::Object exports) {
  exports.Set("dgramBind", Napi::Function::New(env, Bind, "dgramBind"));
  exports.Set("dgramRecv", Napi::Function::New(env, Recv, "dgramRecv"));
  exports.Set("dgramSend", Napi::Function::New(env, Send, "dgramSend"));
}

}  // namespace berth

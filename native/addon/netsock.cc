// Sockets for socket activation and port reservation: bound (and
// listening) TCP/UDP/unix sockets berth hands to containers as fds,
// accept4, and a readiness watch that is a uv_poll (no thread waits).
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <string>

#include "addon.h"

namespace berth {

namespace {

bool Has(const Napi::Object &o, const char *k) { return o.Has(k) && !o.Get(k).IsUndefined() && !o.Get(k).IsNull(); }

// socketBind({ type: 'stream'|'dgram'|'seqpacket', family: 'ipv4'|'ipv6'|'unix',
//   address?, port?, path?, backlog?, nonblock? }): a bound socket, O_CLOEXEC;
// a stream or seqpacket socket listens when backlog is given. Returns { fd, port }
// (port: the one bound, for port 0).
Napi::Value SocketBind(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  std::string type = o.Get("type").As<Napi::String>(), family = o.Get("family").As<Napi::String>();
  int st = (type == "dgram" ? SOCK_DGRAM : type == "seqpacket" ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC;
  if (Has(o, "nonblock") && o.Get("nonblock").ToBoolean()) st |= SOCK_NONBLOCK;
  sockaddr_storage ss = {};
  socklen_t sl;
  std::string label;
  int af;
  if (family == "unix") {
    std::string path = o.Get("path").As<Napi::String>();
    auto *sun = reinterpret_cast<sockaddr_un *>(&ss);
    if (path.size() >= sizeof sun->sun_path) return ThrowErrno(env, ENAMETOOLONG, "bind", path.c_str());
    sun->sun_family = af = AF_UNIX;
    memcpy(sun->sun_path, path.c_str(), path.size() + 1);
    sl = socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    label = path;
  } else {
    std::string addr = Has(o, "address") ? std::string(o.Get("address").As<Napi::String>()) : (family == "ipv6" ? "::" : "0.0.0.0");
    uint16_t port = uint16_t(Has(o, "port") ? o.Get("port").As<Napi::Number>().Uint32Value() : 0);
    label = (family == "ipv6" ? "[" + addr + "]" : addr) + ":" + std::to_string(port);
    if (family == "ipv6") {
      auto *s6 = reinterpret_cast<sockaddr_in6 *>(&ss);
      s6->sin6_family = af = AF_INET6;
      s6->sin6_port = htons(port);
      if (inet_pton(AF_INET6, addr.c_str(), &s6->sin6_addr) != 1) return ThrowErrno(env, EINVAL, "inet_pton", addr.c_str());
      sl = sizeof *s6;
    } else {
      auto *s4 = reinterpret_cast<sockaddr_in *>(&ss);
      s4->sin_family = af = AF_INET;
      s4->sin_port = htons(port);
      if (inet_pton(AF_INET, addr.c_str(), &s4->sin_addr) != 1) return ThrowErrno(env, EINVAL, "inet_pton", addr.c_str());
      sl = sizeof *s4;
    }
  }
  int fd = socket(af, st, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  int one = 1;
  if (af != AF_UNIX && (st & SOCK_STREAM)) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (af == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  const char *failed = nullptr;
  if (bind(fd, reinterpret_cast<sockaddr *>(&ss), sl) < 0) failed = "bind";
  else if (type != "dgram" && Has(o, "backlog") && listen(fd, o.Get("backlog").As<Napi::Number>().Int32Value()) < 0) failed = "listen";
  if (failed) {
    int e = errno;
    close(fd);
    return ThrowErrno(env, e, failed, label.c_str());
  }
  uint32_t port = 0;
  sl = sizeof ss;
  if (af != AF_UNIX && getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &sl) == 0)
    port = ntohs(af == AF_INET ? reinterpret_cast<sockaddr_in *>(&ss)->sin_port : reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", fd);
  out.Set("port", port);
  return out;
}

// accept(fd): a connected socket (blocking, O_CLOEXEC), or -1 if none is
// waiting on the (non-blocking) listening socket.
Napi::Value Accept(const Napi::CallbackInfo &info) {
  int c;
  do c = accept4(info[0].As<Napi::Number>().Int32Value(), nullptr, nullptr, SOCK_CLOEXEC);
  while (c < 0 && errno == EINTR);
  if (c < 0 && (errno == EAGAIN || errno == ECONNABORTED)) return Napi::Number::New(info.Env(), -1);
  if (c < 0) return ThrowErrno(info.Env(), errno, "accept4");
  return Napi::Number::New(info.Env(), c);
}

struct ReadWatch {
  uv_poll_t poll;
  napi_env env;
  Napi::FunctionReference callback;
  bool stopped = false;
  int refs = 2;  // the uv handle (until closed) and the JS stop() (until collected)
};

void Release(ReadWatch *w) {
  if (--w->refs == 0) delete w;
}

void OnWatchClosed(uv_handle_t *h) { Release(static_cast<ReadWatch *>(h->data)); }

void StopWatch(ReadWatch *w) {
  if (w->stopped) return;
  w->stopped = true;
  uv_poll_stop(&w->poll);
  w->callback.Reset();
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWatchClosed);
}

void OnFdReadable(uv_poll_t *h, int status, int) {
  ReadWatch *w = static_cast<ReadWatch *>(h->data);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Object ev = Napi::Object::New(env);
  if (status < 0) ev.Set("error", Napi::String::New(env, uv_err_name(status)));
  w->callback.MakeCallback(env.Global(), {ev});
}

Napi::Value StopFromJs(const Napi::CallbackInfo &info) {
  StopWatch(static_cast<ReadWatch *>(info.Data()));
  return info.Env().Undefined();
}

// watchReadable(fd, callback): calls callback({error?}) whenever fd is
// readable (level-triggered), until the returned stop() is called. The fd
// stays the caller's; stop before closing it.
Napi::Value WatchReadable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return ThrowErrno(env, EINVAL, "napi_get_uv_event_loop");
  ReadWatch *w = new ReadWatch();
  w->env = env;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  int r = uv_poll_init(loop, &w->poll, info[0].As<Napi::Number>().Int32Value());
  if (r < 0) {
    delete w;
    return ThrowErrno(env, -r, "uv_poll_init");
  }
  w->poll.data = w;
  r = uv_poll_start(&w->poll, UV_READABLE, OnFdReadable);
  if (r < 0) {
    w->refs = 1;
    StopWatch(w);
    return ThrowErrno(env, -r, "uv_poll_start");
  }
  Napi::Function stop = Napi::Function::New(env, StopFromJs, "stop", w);
  stop.AddFinalizer([](Napi::Env, ReadWatch *x) { Release(x); }, w);
  return stop;
}

}  // namespace

void InitNetSock(Napi::Env env, Napi::Object exports) {
  exports.Set("socketBind", Napi::Function::New(env, SocketBind, "socketBind"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("watchReadable", Napi::Function::New(env, WatchReadable, "watchReadable"));
}

}  // namespace berth

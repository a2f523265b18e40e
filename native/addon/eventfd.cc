// eventfd(2) and a watch on one: cgroup v1 signals OOM through an eventfd
// registered in cgroup.event_control. The watch is a uv_poll, unref'd (it
// does not keep Node alive by itself): no thread waits.
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <map>

#include "addon.h"

namespace berth {

// eventfd(): EFD_CLOEXEC | EFD_NONBLOCK, counter 0.
static Napi::Value Eventfd(const Napi::CallbackInfo &info) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return ThrowErrno(info.Env(), errno, "eventfd");
  return Napi::Number::New(info.Env(), fd);
}

struct EventfdWatch {
  uv_poll_t poll;
  int fd;
  int id;
  napi_env env;
  Napi::FunctionReference callback;
};

// Live watches by id: unwatchEventfd of an id that has stopped is a no-op.
static std::map<int, EventfdWatch *> g_watches;
static int g_next_id = 1;

static void OnClosed(uv_handle_t *h) { delete static_cast<EventfdWatch *>(h->data); }

static void Stop(EventfdWatch *w) {
  g_watches.erase(w->id);
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnClosed);
}

static void OnReadable(uv_poll_t *h, int status, int) {
  EventfdWatch *w = static_cast<EventfdWatch *>(h->data);
  uint64_t count = 0;
  if (status < 0) return Stop(w);
  ssize_t n = read(w->fd, &count, sizeof count);
  if (n != sizeof count) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    return Stop(w);
  }
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  w->callback.MakeCallback(env.Global(), {Napi::Number::New(env, double(count))});
}

// unwatchEventfd(id): stops a watch; the fd may be closed after.
static Napi::Value UnwatchEventfd(const Napi::CallbackInfo &info) {
  auto it = g_watches.find(info[0].As<Napi::Number>().Int32Value());
  if (it != g_watches.end()) Stop(it->second);
  return info.Env().Undefined();
}

// watchEventfd(fd, callback(count)): calls back each time the eventfd is
// signalled, with the counter it read. Returns the watch's id for
// unwatchEventfd; the fd stays the caller's.
static Napi::Value WatchEventfd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  EventfdWatch *w = new EventfdWatch();
  w->fd = info[0].As<Napi::Number>().Int32Value();
  w->env = env;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  if (!StartReadPoll(env, w, w->fd, OnReadable, OnClosed)) return env.Undefined();
  uv_unref(reinterpret_cast<uv_handle_t *>(&w->poll));
  w->id = g_next_id++;
  g_watches[w->id] = w;
  return Napi::Number::New(env, w->id);
}

void InitEventfd(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfd", Napi::Function::New(env, Eventfd, "eventfd"));
  exports.Set("watchEventfd", Napi::Function::New(env, WatchEventfd, "watchEventfd"));
  exports.Set("unwatchEventfd", Napi::Function::New(env, UnwatchEventfd, "unwatchEventfd"));
}

}  // namespace berth

// berth's N-API addon: thin, typed syscalls for Node (see src/native.d.ts).
// Policy lives in TypeScript; these functions only call the kernel.
#pragma once
#include <errno.h>
#include <napi.h>
#include <uv.h>

namespace berth {

// Throws a Node-style system error: message "CODE: text, syscall 'path'",
// with code, errno, syscall and path properties. Returns undefined.
Napi::Value ThrowErrno(Napi::Env env, int err, const char *syscall, const char *path = nullptr);

// Starts a uv_poll for readability of `fd` on Node's loop for a watch
// object `w` that has a `uv_poll_t poll` member. On failure it throws and
// disposes of w (delete before the handle exists, uv_close after) and
// returns false.
template <typename W>
bool StartReadPoll(Napi::Env env, W *w, int fd, uv_poll_cb readable, uv_close_cb closed) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    delete w;
    ThrowErrno(env, EINVAL, "napi_get_uv_event_loop");
    return false;
  }
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    delete w;
    ThrowErrno(env, -r, "uv_poll_init");
    return false;
  }
  w->poll.data = w;
  r = uv_poll_start(&w->poll, UV_READABLE, readable);
  if (r < 0) {
    uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), closed);
    ThrowErrno(env, -r, "uv_poll_start");
    return false;
  }
  return true;
}

void InitFds(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
void InitDgram(Napi::Env env, Napi::Object exports);
void InitProcess(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitFsOps(Napi::Env env, Napi::Object exports);
void InitBpf(Napi::Env env, Napi::Object exports);
void InitEventfd(Napi::Env env, Napi::Object exports);
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitNetSock(Napi::Env env, Napi::Object exports);
void InitMsg(Napi::Env env, Napi::Object exports);

}  // namespace berth

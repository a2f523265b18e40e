// berth's N-API addon: thin, typed syscalls for Node (see src/native.d.ts).
// Policy lives in TypeScript; these functions only call the kernel.
#pragma once
#include <napi.h>

namespace berth {

// Throws a Node-style system error: message "CODE: text, syscall 'path'",
// with code, errno, syscall and path properties. Returns undefined.
Napi::Value ThrowErrno(Napi::Env env, int err, const char *syscall, const char *path = nullptr);

void InitFds(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
void InitDgram(Napi::Env env, Napi::Object exports);
void InitProcess(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitBpf(Napi::Env env, Napi::Object exports);
void InitEventfd(Napi::Env env, Napi::Object exports);
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitNetSock(Napi::Env env, Napi::Object exports);

}  // namespace berth

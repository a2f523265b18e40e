#include <errno.h>
#include <string.h>

#include <string>

#include "addon.h"

namespace berth {

Napi::Value ThrowErrno(Napi::Env env, int err, const char *syscall, const char *path) {
  const char *code = strerrorname_np(err);
  std::string msg = std::string(code ? code : "E?") + ": " + strerror(err) + ", " + syscall;
  if (path) msg += std::string(" '") + path + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code ? code : "UNKNOWN"));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (path) e.Set("path", Napi::String::New(env, path));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace berth

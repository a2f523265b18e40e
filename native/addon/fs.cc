// File system primitives Node lacks, for unpacking image layers: mknod
// (device nodes, fifos, overlayfs whiteouts) and extended attributes
// (security.capability, trusted.overlay.opaque). None follows a symlink.
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <string>

#include "addon.h"

namespace berth {

// mknod(path, mode, major, minor): mode includes the file type bits.
static Napi::Value Mknod(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  dev_t dev = makedev(info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
  if (mknod(path.c_str(), mode, dev) < 0) return ThrowErrno(info.Env(), errno, "mknod", path.c_str());
  return info.Env().Undefined();
}

// lsetxattr(path, name, value: Buffer)
static Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>(), name = info[1].As<Napi::String>();
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    return ThrowErrno(info.Env(), errno, "lsetxattr", path.c_str());
  return info.Env().Undefined();
}

// lgetxattr(path, name): the value, or null when the file has no such attribute.
static Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>(), name = info[1].As<Napi::String>();
  char buf[65536];
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0 && errno == ENODATA) return info.Env().Null();
  if (n < 0) return ThrowErrno(info.Env(), errno, "lgetxattr", path.c_str());
  return Napi::Buffer<char>::Copy(info.Env(), buf, size_t(n));
}

void InitFs(Napi::Env env, Napi::Object exports) {
  exports.Set("mknod", Napi::Function::New(env, Mknod, "mknod"));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr, "lsetxattr"));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
}

}  // namespace berth

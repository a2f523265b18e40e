// Seccomp: compiles an OCI seccomp profile to classic BPF with the system's
// libseccomp, loaded at run time (dlopen), so the build needs no -dev
// package and a machine without libseccomp can still run containers that
// ask for no filter. The setup process loads the returned program.
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "addon.h"

namespace berth {

namespace {

struct ArgCmp {  // struct scmp_arg_cmp
  unsigned int arg;
  int op;
  uint64_t datum_a;
  uint64_t datum_b;
};

struct Lib {
  void *(*init)(uint32_t);
  void (*release)(void *);
  int (*arch_add)(void *, uint32_t);
  int (*arch_remove)(void *, uint32_t);
  uint32_t (*arch_resolve_name)(const char *);
  uint32_t (*arch_native)();
  int (*resolve_name)(const char *);
  int (*rule_add_array)(void *, uint32_t, int, unsigned int, const ArgCmp *);
  int (*attr_set)(void *, int, uint32_t);
  int (*export_bpf)(void *, int);
  bool ok = false;
};

Lib *lib() {
  static Lib l;
  static bool tried = false;
  if (tried) return l.ok ? &l : nullptr;
  tried = true;
  void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!h) return nullptr;
#define SYM(field, name) l.field = reinterpret_cast<decltype(l.field)>(dlsym(h, name))
  SYM(init, "seccomp_init");
  SYM(release, "seccomp_release");
  SYM(arch_add, "seccomp_arch_add");
  SYM(arch_remove, "seccomp_arch_remove");
  SYM(arch_resolve_name, "seccomp_arch_resolve_name");
  SYM(arch_native, "seccomp_arch_native");
  SYM(resolve_name, "seccomp_syscall_resolve_name");
  SYM(rule_add_array, "seccomp_rule_add_array");
  SYM(attr_set, "seccomp_attr_set");
  SYM(export_bpf, "seccomp_export_bpf");
#undef SYM
  l.ok = l.init && l.release && l.arch_add && l.arch_resolve_name && l.resolve_name && l.rule_add_array && l.attr_set &&
         l.export_bpf && l.arch_native && l.arch_remove;
  return l.ok ? &l : nullptr;
}

uint64_t U64(Napi::Value v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return uint64_t(v.As<Napi::Number>().Int64Value());
}

}  // namespace

// seccompCompile({ defaultAction, architectures: string[] (libseccomp names),
//   rules: [{ syscall, action, args: [{ index, op, value, valueTwo }] }] })
// → Buffer of struct sock_filter. Actions and ops are libseccomp's numbers;
// the TypeScript side maps the OCI names. Syscalls libseccomp does not know
// are skipped (as runc and crun do); their names come back in `unknown`.
static Napi::Value Compile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Lib *l = lib();
  if (!l) return ThrowErrno(env, ENOSYS, "dlopen", "libseccomp.so.2");
  Napi::Object p = info[0].As<Napi::Object>();
  void *ctx = l->init(uint32_t(U64(p.Get("defaultAction"))));
  if (!ctx) return ThrowErrno(env, EINVAL, "seccomp_init");
  struct Guard {
    Lib *l;
    void *ctx;
    ~Guard() { l->release(ctx); }
  } guard{l, ctx};
  l->attr_set(ctx, 3 /* SCMP_FLTATR_CTL_NNP */, 0);  // the setup process sets no_new_privs itself
  Napi::Array arches = p.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>();
    uint32_t a = l->arch_resolve_name(name.c_str());
    if (!a) return ThrowErrno(env, EINVAL, "seccomp_arch_resolve_name", name.c_str());
    int r = l->arch_add(ctx, a);
    if (r < 0 && r != -EEXIST) return ThrowErrno(env, -r, "seccomp_arch_add", name.c_str());
  }
  Napi::Array unknown = Napi::Array::New(env);
  Napi::Array rules = p.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("syscall").As<Napi::String>();
    int nr = l->resolve_name(name.c_str());
    if (nr < 0) {
      unknown.Set(unknown.Length(), Napi::String::New(env, name));
      continue;
    }
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    std::vector<ArgCmp> cmps;
    for (uint32_t k = 0; k < args.Length(); k++) {
      Napi::Object a = args.Get(k).As<Napi::Object>();
      cmps.push_back({unsigned(U64(a.Get("index"))), int(U64(a.Get("op"))), U64(a.Get("value")), U64(a.Get("valueTwo"))});
    }
    int r = l->rule_add_array(ctx, uint32_t(U64(rule.Get("action"))), nr, unsigned(cmps.size()), cmps.data());
    // The same action as the default: libseccomp refuses it as redundant.
    if (r < 0 && r != -EACCES) return ThrowErrno(env, -r, "seccomp_rule_add", name.c_str());
  }
  int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "memfd_create");
  int r = l->export_bpf(ctx, fd);
  if (r < 0) {
    close(fd);
    return ThrowErrno(env, -r, "seccomp_export_bpf");
  }
  off_t len = lseek(fd, 0, SEEK_END);
  std::vector<unsigned char> buf(size_t(len > 0 ? len : 0));
  ssize_t got = pread(fd, buf.data(), buf.size(), 0);
  close(fd);
  if (got != ssize_t(buf.size())) return ThrowErrno(env, EIO, "pread", "seccomp program");
  Napi::Object out = Napi::Object::New(env);
  out.Set("program", Napi::Buffer<unsigned char>::Copy(env, buf.data(), buf.size()));
  out.Set("unknown", unknown);
  return out;
}

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompCompile", Napi::Function::New(env, Compile, "seccompCompile"));
}

}  // namespace berth

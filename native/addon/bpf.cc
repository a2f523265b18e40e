// bpf(2) for cgroup v2 device control: load a program, attach it to a
// cgroup directory fd, find and detach the ones attached before. The
// program itself is built in TypeScript (src/cgroups/v2/bpf.ts).
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "addon.h"

namespace berth {

static int bpf(int cmd, union bpf_attr *attr) { return int(syscall(SYS_bpf, cmd, attr, sizeof *attr)); }

static int Int(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// bpfProgLoad(type, insns: Buffer, license): the program's fd (O_CLOEXEC, as
// every bpf fd). On failure the error carries the verifier's log.
static Napi::Value ProgLoad(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  std::string license = info[2].As<Napi::String>();
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = uint32_t(Int(info, 0));
  attr.insns = uint64_t(uintptr_t(insns.Data()));
  attr.insn_cnt = uint32_t(insns.Length() / sizeof(struct bpf_insn));
  attr.license = uint64_t(uintptr_t(license.c_str()));
  int fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, fd);
  int err = errno;
  if (err != EINVAL && err != EACCES) return ThrowErrno(env, err, "bpf", "BPF_PROG_LOAD");
  // Again, with a log, to say why.
  std::vector<char> log(65536);
  attr.log_buf = uint64_t(uintptr_t(log.data()));
  attr.log_size = uint32_t(log.size());
  attr.log_level = 1;
  fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, fd);
  err = errno;
  ThrowErrno(env, err, "bpf", "BPF_PROG_LOAD");
  Napi::Error e = env.GetAndClearPendingException();
  e.Set("verifierLog", Napi::String::New(env, log.data()));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// bpfProgAttach(progFd, targetFd, attachType, flags)
static Napi::Value ProgAttach(const Napi::CallbackInfo &info) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attach_bpf_fd = uint32_t(Int(info, 0));
  attr.target_fd = uint32_t(Int(info, 1));
  attr.attach_type = uint32_t(Int(info, 2));
  attr.attach_flags = uint32_t(Int(info, 3));
  if (bpf(BPF_PROG_ATTACH, &attr) < 0) return ThrowErrno(info.Env(), errno, "bpf", "BPF_PROG_ATTACH");
  return info.Env().Undefined();
}

// bpfProgDetach(progFd, targetFd, attachType)
static Napi::Value ProgDetach(const Napi::CallbackInfo &info) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attach_bpf_fd = uint32_t(Int(info, 0));
  attr.target_fd = uint32_t(Int(info, 1));
  attr.attach_type = uint32_t(Int(info, 2));
  if (bpf(BPF_PROG_DETACH, &attr) < 0) return ThrowErrno(info.Env(), errno, "bpf", "BPF_PROG_DETACH");
  return info.Env().Undefined();
}

// bpfProgQuery(targetFd, attachType): ids of the programs attached there.
static Napi::Value ProgQuery(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint32_t ids[64];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = uint32_t(Int(info, 0));
  attr.query.attach_type = uint32_t(Int(info, 1));
  attr.query.prog_ids = uint64_t(uintptr_t(ids));
  attr.query.prog_cnt = 64;
  if (bpf(BPF_PROG_QUERY, &attr) < 0) return ThrowErrno(env, errno, "bpf", "BPF_PROG_QUERY");
  Napi::Array out = Napi::Array::New(env, attr.query.prog_cnt);
  for (uint32_t i = 0; i < attr.query.prog_cnt && i < 64; i++) out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

// bpfProgGetFdById(id)
static Napi::Value ProgGetFdById(const Napi::CallbackInfo &info) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = info[0].As<Napi::Number>().Uint32Value();
  int fd = bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) return ThrowErrno(info.Env(), errno, "bpf", "BPF_PROG_GET_FD_BY_ID");
  return Napi::Number::New(info.Env(), fd);
}

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfProgLoad", Napi::Function::New(env, ProgLoad, "bpfProgLoad"));
  exports.Set("bpfProgAttach", Napi::Function::New(env, ProgAttach, "bpfProgAttach"));
  exports.Set("bpfProgDetach", Napi::Function::New(env, ProgDetach, "bpfProgDetach"));
  exports.Set("bpfProgQuery", Napi::Function::New(env, ProgQuery, "bpfProgQuery"));
  exports.Set("bpfProgGetFdById", Napi::Function::New(env, ProgGetFdById, "bpfProgGetFdById"));
}

}  // namespace berth

#include "addon.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  berth::InitFds(env, exports);
  berth::InitSeccomp(env, exports);
  berth::InitDgram(env, exports);
  berth::InitProcess(env, exports);
  berth::InitFs(env, exports);
  berth::InitFsOps(env, exports);
  berth::InitBpf(env, exports);
  berth::InitEventfd(env, exports);
  berth::InitNetlink(env, exports);
  berth::InitNetSock(env, exports);
  berth::InitMsg(env, exports);
  return exports;
}

NODE_API_MODULE(berth, Init)

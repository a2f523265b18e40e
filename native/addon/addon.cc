#include "addon.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  berth::InitFds(env, exports);
  berth::InitProcess(env, exports);
  berth::InitFs(env, exports);
  return exports;
}

NODE_API_MODULE(berth, Init)

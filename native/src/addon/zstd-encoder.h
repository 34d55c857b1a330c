// zstd compression for the addon (see zstd-encoder.cc).
#pragma once

#include <napi.h>

namespace berth {
void registerZstdEncoder(Napi::Env env, Napi::Object exports);
}

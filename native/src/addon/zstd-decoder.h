// zstd decompression for the addon (see zstd-decoder.cc).
#pragma once

#include <napi.h>

namespace berth {
void registerZstdDecoder(Napi::Env env, Napi::Object exports);
}

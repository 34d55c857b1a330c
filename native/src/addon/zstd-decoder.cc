// A streaming zstd decoder for image layers (…layer.v1.tar+zstd): Node 20's
// zlib has none, and Debian's libzstd is the reference implementation. Each
// call decodes one chunk synchronously, as zlib's own calls do.
#include "zstd-decoder.h"

#include <zstd.h>

#include <string>
#include <vector>

namespace berth {

namespace {

class ZstdDecoder : public Napi::ObjectWrap<ZstdDecoder> {
 public:
  explicit ZstdDecoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ZstdDecoder>(info), ctx_(ZSTD_createDCtx()) {
    if (!ctx_) Napi::Error::New(info.Env(), "zstd: out of memory").ThrowAsJavaScriptException();
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(ctx_); }

  // push(Buffer) -> Buffer: what the chunk decodes to (maybe nothing yet).
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto in = info[0].As<Napi::Buffer<char>>();
    ZSTD_inBuffer src = {in.Data(), in.Length(), 0};
    std::vector<char> out;
    std::vector<char> chunk(ZSTD_DStreamOutSize());
    while (src.pos < src.size || lastRet_ == kFull) {
      ZSTD_outBuffer dst = {chunk.data(), chunk.size(), 0};
      size_t r = ZSTD_decompressStream(ctx_, &dst, &src);
      if (ZSTD_isError(r)) {
        Napi::Error::New(env, std::string("zstd: ") + ZSTD_getErrorName(r)).ThrowAsJavaScriptException();
        return env.Null();
      }
      out.insert(out.end(), chunk.data(), chunk.data() + dst.pos);
      // A full output buffer may leave decoded bytes inside the context.
      lastRet_ = dst.pos == dst.size ? kFull : r;
      if (src.pos == src.size && lastRet_ != kFull) break;
    }
    seen_ = seen_ || in.Length() > 0;
    return Napi::Buffer<char>::Copy(env, out.data(), out.size());
  }

  // end(): throws unless the input ended on a whole frame.
  Napi::Value End(const Napi::CallbackInfo& info) {
    if (seen_ && lastRet_ != 0) Napi::Error::New(info.Env(), "zstd: the data ended in the middle of a frame (truncated)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }

 private:
  static constexpr size_t kFull = static_cast<size_t>(-1);
  ZSTD_DCtx* ctx_;
  size_t lastRet_ = 0;  // 0: the last frame is complete
  bool seen_ = false;
};

}  // namespace

void registerZstdDecoder(Napi::Env env, Napi::Object exports) {
  exports.Set("ZstdDecoder", ZstdDecoder::DefineClass(env, "ZstdDecoder", {
    ZstdDecoder::InstanceMethod<&ZstdDecoder::Push>("push"),
    ZstdDecoder::InstanceMethod<&ZstdDecoder::End>("end"),
  }));
}

}  // namespace berth

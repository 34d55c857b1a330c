// A streaming zstd encoder for `push --compression zstd`. One thread and a
// fixed level, so the same layer always compresses to the same bytes (and
// the same digest), as the gzip path promises.
#include "zstd-encoder.h"

#include <zstd.h>

#include <string>
#include <vector>

namespace berth {

namespace {

class ZstdEncoder : public Napi::ObjectWrap<ZstdEncoder> {
 public:
  explicit ZstdEncoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ZstdEncoder>(info), ctx_(ZSTD_createCCtx()) {
    if (!ctx_) {
      Napi::Error::New(info.Env(), "zstd: out of memory").ThrowAsJavaScriptException();
      return;
    }
    int level = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 3;
    ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(ctx_, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(ctx_); }

  // push(Buffer) -> Buffer: what is ready of the frame so far.
  Napi::Value Push(const Napi::CallbackInfo& info) {
    auto in = info[0].As<Napi::Buffer<char>>();
    return Run(info.Env(), in.Data(), in.Length(), ZSTD_e_continue);
  }

  // end() -> Buffer: the rest of the frame.
  Napi::Value End(const Napi::CallbackInfo& info) { return Run(info.Env(), nullptr, 0, ZSTD_e_end); }

 private:
  Napi::Value Run(Napi::Env env, const char* data, size_t size, ZSTD_EndDirective mode) {
    ZSTD_inBuffer src = {data, size, 0};
    std::vector<char> out;
    std::vector<char> chunk(ZSTD_CStreamOutSize());
    for (;;) {
      ZSTD_outBuffer dst = {chunk.data(), chunk.size(), 0};
      size_t left = ZSTD_compressStream2(ctx_, &dst, &src, mode);
      if (ZSTD_isError(left)) {
        Napi::Error::New(env, std::string("zstd: ") + ZSTD_getErrorName(left)).ThrowAsJavaScriptException();
        return env.Null();
      }
      out.insert(out.end(), chunk.data(), chunk.data() + dst.pos);
      // continue: done when the input is taken; end: when nothing is left.
      if (mode == ZSTD_e_continue ? src.pos == src.size : left == 0) break;
    }
    return Napi::Buffer<char>::Copy(env, out.data(), out.size());
  }

  ZSTD_CCtx* ctx_;
};

}  // namespace

void registerZstdEncoder(Napi::Env env, Napi::Object exports) {
  exports.Set("ZstdEncoder", ZstdEncoder::DefineClass(env, "ZstdEncoder", {
    ZstdEncoder::InstanceMethod<&ZstdEncoder::Push>("push"),
    ZstdEncoder::InstanceMethod<&ZstdEncoder::End>("end"),
  }));
}

}  // namespace berth

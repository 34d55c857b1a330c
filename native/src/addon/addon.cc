// The Node addon: small synchronous calls that are safe from inside Node's
// multi-threaded process (nothing here changes namespaces).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include <napi.h>

#include "../common/cgroup.h"
#include "../common/fsutil.h"
#include "../common/in-root.h"
#include "../common/untar.h"
#include "../common/netlink.h"
#include "zstd-decoder.h"
#include "zstd-encoder.h"

namespace {

using berth::cgroup::Stats;

Napi::Value CgroupVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), berth::cgroup::versionName(berth::cgroup::detect()));
}

Napi::Value CgroupStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stats s;
  if (!berth::cgroup::read(info[0].As<Napi::String>(), info[1].As<Napi::String>(), &s)) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("memoryUsage", double(s.memoryUsage));
  o.Set("memoryPeak", double(s.memoryPeak));
  o.Set("memoryLimit", double(s.memoryLimit));
  o.Set("cpuUsageNs", double(s.cpuUsageNs));
  o.Set("pids", double(s.pids));
  o.Set("pidsLimit", double(s.pidsLimit));
  o.Set("blkioRead", double(s.blkioRead));
  o.Set("blkioWrite", double(s.blkioWrite));
  o.Set("oomKills", double(s.oomKills));
  return o;
}

Napi::Value CgroupProcs(const Napi::CallbackInfo& info) {
  auto pids = berth::cgroup::procs(info[0].As<Napi::String>(), info[1].As<Napi::String>());
  Napi::Array a = Napi::Array::New(info.Env(), pids.size());
  for (size_t i = 0; i < pids.size(); i++) a.Set(i, pids[i]);
  return a;
}

Napi::Value CgroupRemove(const Napi::CallbackInfo& info) {
  std::string parent = info[0].As<Napi::String>(), id = info[1].As<Napi::String>();
  berth::cgroup::killAll(parent, id);
  return Napi::Boolean::New(info.Env(), berth::cgroup::remove(parent, id));
}

// docker update: the limits given (others 0 or empty) written into a
// running container's cgroup; returns "" or what failed.
Napi::Value CgroupUpdate(const Napi::CallbackInfo& info) {
  Napi::Object o = info[2].As<Napi::Object>();
  auto num = [&](const char* k) { return o.Get(k).IsNumber() ? static_cast<int64_t>(o.Get(k).As<Napi::Number>().DoubleValue()) : 0; };
  berth::cgroup::Limits l;
  l.memory = num("memory");
  l.memorySwap = num("memorySwap");
  l.memoryReservation = num("memoryReservation");
  l.cpuQuota = num("cpuQuota");
  if (num("cpuPeriod") > 0) l.cpuPeriod = num("cpuPeriod");
  l.cpuShares = num("cpuShares");
  l.pidsLimit = num("pidsLimit");
  l.blkioWeight = num("blkioWeight");
  if (o.Get("cpusetCpus").IsString()) l.cpusetCpus = o.Get("cpusetCpus").As<Napi::String>();
  std::string err;
  berth::cgroup::update(info[0].As<Napi::String>(), info[1].As<Napi::String>(), l, &err);
  return Napi::String::New(info.Env(), err);
}

Napi::Value CgroupFreeze(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), berth::cgroup::freeze(info[0].As<Napi::String>(), info[1].As<Napi::String>(),
                                                               info[2].As<Napi::Boolean>()));
}

// Signals pid only if it is still the process that started at startTime:
// the pidfd pins the process, so the check and the signal cannot race a
// recycled pid.
Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  uint64_t start = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  int sig = info[2].As<Napi::Number>().Int32Value();
  bool ok = false;
#ifdef SYS_pidfd_open
  // pidfd_open always sets close-on-exec, so a shim spawned meanwhile cannot inherit it.
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    ok = berth::processStartTime(pid) == start && syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) == 0;
    close(fd);
    return Napi::Boolean::New(info.Env(), ok);
  }
#endif
  ok = berth::processStartTime(pid) == start && kill(pid, sig) == 0;
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  dev_t dev = makedev(info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
  if (mknod(path.c_str(), mode, dev) != 0) {
    Napi::Error::New(info.Env(), std::string("mknod ") + path + ": " + strerror(errno)).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// Returns the xattr's value, or null when the file has none by that name.
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>(), name = info[1].As<Napi::String>();
  char buf[4096];
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) return info.Env().Null();
  return Napi::Buffer<char>::Copy(info.Env(), buf, static_cast<size_t>(n));
}

// The in-root resolver (common/in-root.h) for the engine: open a path
// inside a root directory and hand back the fd. Errors carry errno's name
// as .code, the way Node's own fs errors do.
Napi::Value OpenRooted(const Napi::CallbackInfo& info, bool beneath) {
  Napi::Env env = info.Env();
  std::string root = info[0].As<Napi::String>(), path = info[1].As<Napi::String>();
  int flags = info[2].As<Napi::Number>().Int32Value();
  mode_t mode = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
  int rootfd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = rootfd < 0 ? -1 : beneath ? berth::openBeneath(rootfd, path, flags, mode) : berth::openInRoot(rootfd, path, flags, mode);
  int err = errno;
  if (rootfd >= 0) close(rootfd);
  if (fd < 0) {
    const char* name = err == ENOENT ? "ENOENT" : err == ENOTDIR ? "ENOTDIR" : err == ELOOP ? "ELOOP" : err == EXDEV ? "EXDEV" : err == EEXIST ? "EEXIST" : err == EACCES ? "EACCES" : err == EISDIR ? "EISDIR" : err == ENOSPC ? "ENOSPC" : err == EPERM ? "EPERM" : err == EROFS ? "EROFS" : "EIO";
    Napi::Error e = Napi::Error::New(env, std::string(name) + ": " + strerror(err) + ", open '" + path + "' in " + root);
    e.Set("code", Napi::String::New(env, name));
    e.Set("errno", Napi::Number::New(env, -err));
    throw e;
  }
  return Napi::Number::New(env, fd);
}

Napi::Value OpenInRoot(const Napi::CallbackInfo& info) { return OpenRooted(info, false); }
Napi::Value OpenBeneath(const Napi::CallbackInfo& info) { return OpenRooted(info, true); }

// syncfs on the filesystem holding path: what Berth unpacked there reaches
// the disk before a record says it is whole (machine crashes, not only
// process kills). "" or what failed.
Napi::Value SyncFs(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Napi::String::New(info.Env(), strerror(errno));
  int r = syncfs(fd);
  int e = errno;
  close(fd);
  return Napi::String::New(info.Env(), r == 0 ? "" : strerror(e));
}

// flock on an open fd; non-blocking so the event loop never stalls.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].As<Napi::Boolean>();
  int r = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  return Napi::Boolean::New(info.Env(), r == 0);
}

// Extracts a layer tarball on a worker thread; resolves to "" or an error
// message, reporting bytes read to an optional callback as it goes.
class UntarWorker : public Napi::AsyncProgressWorker<uint64_t> {
 public:
  // fd >= 0: read from it (and close it) instead of opening tar.
  UntarWorker(Napi::Env env, std::string tar, std::string dest, Napi::Function onProgress, berth::UntarOptions options, int fd = -1)
      : Napi::AsyncProgressWorker<uint64_t>(env), deferred_(Napi::Promise::Deferred::New(env)), tar_(std::move(tar)), dest_(std::move(dest)),
        options_(options), fd_(fd) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }
  void Execute(const ExecutionProgress& progress) override {
    auto report = [&](uint64_t bytes) { progress.Send(&bytes, 1); };
    result_ = fd_ >= 0 ? berth::untarFd(fd_, tar_, dest_, report, options_) : berth::untar(tar_, dest_, report, options_);
  }
  void OnProgress(const uint64_t* data, size_t count) override {
    if (count && !onProgress_.IsEmpty()) onProgress_.Call({Napi::Number::New(Env(), double(data[count - 1]))});
  }
  void OnOK() override { deferred_.Resolve(Napi::String::New(Env(), result_)); }
  Napi::Promise Promise() { return deferred_.Promise(); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference onProgress_;
  std::string tar_, dest_, result_;
  berth::UntarOptions options_;
  int fd_;
};

Napi::Value Untar(const Napi::CallbackInfo& info) {
  Napi::Function cb = info.Length() > 2 && info[2].IsFunction() ? info[2].As<Napi::Function>() : Napi::Function();
  berth::UntarOptions options;
  if (info.Length() > 3 && info[3].IsObject()) options.rootless = info[3].As<Napi::Object>().Get("rootless").ToBoolean();
  auto* w = new UntarWorker(info.Env(), info[0].As<Napi::String>(), info[1].As<Napi::String>(), cb, options);
  auto p = w->Promise();
  w->Queue();
  return p;
}

// untarFd(fd, name, dest, onProgress?, options?): as untar, reading an open
// descriptor (a pipe's read end from pipe()), which it takes and closes.
Napi::Value UntarFd(const Napi::CallbackInfo& info) {
  Napi::Function cb = info.Length() > 3 && info[3].IsFunction() ? info[3].As<Napi::Function>() : Napi::Function();
  berth::UntarOptions options;
  if (info.Length() > 4 && info[4].IsObject()) options.rootless = info[4].As<Napi::Object>().Get("rootless").ToBoolean();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto* w = new UntarWorker(info.Env(), info[1].As<Napi::String>(), info[2].As<Napi::String>(), cb, options, fd);
  auto p = w->Promise();
  w->Queue();
  return p;
}

// A pipe, [read end, write end], both close-on-exec: a layer streams through
// it from Node into the extractor on its worker thread.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    Napi::Error::New(info.Env(), std::string("pipe: ") + strerror(errno)).ThrowAsJavaScriptException();
    return info.Env().Null();
  }
  // A roomier pipe (1 MiB where the system allows) lets Node hand over a
  // whole decoded chunk at once, and the extractor read it in one go.
  (void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(uint32_t(0), fds[0]);
  a.Set(uint32_t(1), fds[1]);
  return a;
}

// Creates a bridge with its gateway address and brings it up (idempotent).
Napi::Value EnsureBridge(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>(), cidr = info[1].As<Napi::String>(), err;
  if (!berth::netlink::ensureBridge(name, cidr, &err)) Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

Napi::Value DeleteLink(const Napi::CallbackInfo& info) {
  std::string err;
  if (!berth::netlink::deleteLink(info[0].As<Napi::String>(), &err)) Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

Napi::Value LinkExists(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), berth::netlink::linkExists(info[0].As<Napi::String>()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  berth::registerZstdDecoder(env, exports);
  berth::registerZstdEncoder(env, exports);
  exports.Set("ensureBridge", Napi::Function::New(env, EnsureBridge));
  exports.Set("deleteLink", Napi::Function::New(env, DeleteLink));
  exports.Set("linkExists", Napi::Function::New(env, LinkExists));
  exports.Set("untar", Napi::Function::New(env, Untar));
  exports.Set("untarFd", Napi::Function::New(env, UntarFd));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("cgroupVersion", Napi::Function::New(env, CgroupVersion));
  exports.Set("cgroupStats", Napi::Function::New(env, CgroupStats));
  exports.Set("cgroupProcs", Napi::Function::New(env, CgroupProcs));
  exports.Set("cgroupRemove", Napi::Function::New(env, CgroupRemove));
  exports.Set("cgroupFreeze", Napi::Function::New(env, CgroupFreeze));
  exports.Set("cgroupUpdate", Napi::Function::New(env, CgroupUpdate));
  exports.Set("signalProcess", Napi::Function::New(env, SignalProcess));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("openInRoot", Napi::Function::New(env, OpenInRoot));
  exports.Set("syncfs", Napi::Function::New(env, SyncFs));
  exports.Set("openBeneath", Napi::Function::New(env, OpenBeneath));
  return exports;
}

}  // namespace

NODE_API_MODULE(berth, Init)

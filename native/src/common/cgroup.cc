// The container's cgroup, whatever the host mounts: each call picks the
// v1 or v2 backend (cgroup-v1.cc, cgroup-v2.cc) by the filesystem at
// /sys/fs/cgroup, and what is the same for both (killing, freezing and
// waiting, removal) is done here once.
#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-backend.h"
#include "fsutil.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace berth {
namespace cgroup {

namespace {

const Backend& backend() { return detect() == Version::V2 ? v2Backend() : v1Backend(); }

void pause5ms() {
  struct timespec ts = {0, 5 * 1000 * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

Version detect() {
  struct statfs fs;
  if (statfs(kRoot, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return Version::V2;
  return Version::V1;
}

const char* versionName(Version v) { return v == Version::V2 ? "v2" : "v1"; }

std::string unifiedPath(const std::string& parent, const std::string& id) { return backend().unifiedPath(parent, id); }

bool create(const std::string& parent, const std::string& id, const Limits& l, std::string* err) {
  if (backend().create(parent, id, l, err)) return true;
  remove(parent, id);  // whatever part was made goes
  return false;
}

bool update(const std::string& parent, const std::string& id, const Limits& l, std::string* err) {
  return backend().apply(parent, id, l, err);
}

bool attach(const std::string& parent, const std::string& id, int pid, std::string* err) {
  return backend().attach(parent, id, pid, err);
}

bool read(const std::string& parent, const std::string& id, Stats* s) { return backend().read(parent, id, s); }

std::vector<int> procs(const std::string& parent, const std::string& id) {
  std::string s;
  std::vector<int> out;
  if (!readFile(backend().procsDir(parent, id) + "/cgroup.procs", &s)) return out;
  for (const auto& line : splitLines(s)) {
    int64_t v = parseInt64(line, 0);
    if (v > 0) out.push_back(static_cast<int>(v));
  }
  return out;
}

void killAll(const std::string& parent, const std::string& id) {
  if (backend().killAtOnce(parent, id)) return;
  freeze(parent, id, true);  // so nothing forks between listing and killing
  for (int pid : procs(parent, id)) kill(pid, SIGKILL);
  freeze(parent, id, false);
}

// Returns once the kernel says every task is frozen (or thawed): freezing
// is asynchronous, and commit must not read while a task still writes.
bool freeze(const std::string& parent, const std::string& id, bool frozen) {
  const Backend& b = backend();
  if (!b.setFrozen(parent, id, frozen)) return false;
  for (int attempt = 0; attempt < 400; attempt++) {
    if (b.frozenNow(parent, id) == (frozen ? 1 : 0)) return true;
    pause5ms();
  }
  return false;
}

std::vector<std::string> paths(const std::string& parent, const std::string& id) { return backend().dirs(parent, id); }

bool remove(const std::string& parent, const std::string& id) {
  bool ok = true;
  for (const auto& dir : paths(parent, id)) {
    // The kernel keeps the cgroup busy until exiting tasks are fully reaped.
    for (int attempt = 0; attempt < 200; attempt++) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) {
        ok = false;
        break;
      }
      pause5ms();
      if (attempt == 199) ok = false;
    }
  }
  return ok;
}

}  // namespace cgroup
}  // namespace berth

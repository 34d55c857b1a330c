#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "fsutil.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace berth {
namespace cgroup {

namespace {

const char* kRoot = "/sys/fs/cgroup";
// v1 controllers Berth uses; cpu and cpuacct may be co-mounted (then both
// names lead to one directory and the second mkdir/rmdir is a no-op).
const char* kV1Controllers[] = {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer"};

std::string v1Dir(const char* ctrl, const std::string& parent, const std::string& id) {
  return std::string(kRoot) + "/" + ctrl + "/" + parent + "/" + id;
}

std::string v2Dir(const std::string& parent, const std::string& id) {
  return std::string(kRoot) + "/" + parent + "/" + id;
}

bool setFile(const std::string& dir, const char* file, const std::string& value, std::string* err) {
  int e = 0;
  if (writeFile(dir + "/" + file, value, &e)) return true;
  if (!err) return false;
  if (!exists(dir + "/" + file)) {
    // The control file only exists when its controller is enabled for the cgroup.
    std::string ctrl(file, strchr(file, '.') ? strchr(file, '.') - file : strlen(file));
    *err = "the " + ctrl + " cgroup controller is not available for " + dir +
           "; enable it on this host (cgroup v2: cgroup.subtree_control of every parent) to use this limit";
  } else {
    *err = std::string("cannot write ") + value + " to " + dir + "/" + file + ": " + strerror(e);
  }
  return false;
}

// Figures a file cannot give are -1 ("not measured"), never 0.
int64_t readNum(const std::string& path, int64_t fallback = -1) {
  std::string s;
  if (!readFile(path, &s)) return fallback;
  return parseInt64(s, fallback);
}

// Reads "key value" lines (memory.stat, cpu.stat, memory.events).
int64_t readKey(const std::string& path, const std::string& key, int64_t missing = -1) {
  std::string s;
  if (!readFile(path, &s)) return missing;
  for (const auto& line : splitLines(s)) {
    if (line.compare(0, key.size() + 1, key + " ") == 0) return parseInt64(line.substr(key.size() + 1), 0);
  }
  return missing;
}

bool v1Mounted(const char* ctrl) { return exists(std::string(kRoot) + "/" + ctrl + "/cgroup.procs"); }

const char* kNoHierarchy =
    "no cgroup hierarchy is mounted at /sys/fs/cgroup, so Berth can neither limit nor account for the container; "
    "mount it (it is missing where /sys was remounted, as `ip netns exec` does: use `nsenter --net` or "
    "`unshare --net` instead)";

// errno from the failed mkdir decides the advice.
std::string cannotCreate(const std::string& dir) {
  int e = errno;
  std::string s = "cannot create the container's cgroup " + dir + ": " + strerror(e);
  if (e == EACCES || e == EPERM || e == EROFS)
    s += "; a container needs a cgroup of its own, and this user may not make one: run Berth as root "
         "(rootless containers are not supported yet)";
  return s;
}

std::string missingController(const char* ctrl, const char* flag, const std::string& fix) {
  return std::string("the ") + ctrl + " cgroup controller is not available, so " + flag + " cannot be applied; " + fix;
}

// Every v1 controller a requested limit needs must be mounted: a limit is
// applied or the run is refused, never dropped.
bool checkV1(const Limits& l, std::string* err) {
  bool any = false;
  for (const char* c : kV1Controllers) any = any || v1Mounted(c);
  if (!any) {
    if (err) *err = kNoHierarchy;
    return false;
  }
  const std::string fix = "mount its hierarchy under /sys/fs/cgroup, or run without this limit";
  const char* need = nullptr;
  const char* flag = nullptr;
  if (l.memory > 0 || l.memorySwap != 0) need = "memory", flag = l.memory > 0 ? "--memory" : "--memory-swap";
  if (need && !v1Mounted(need)) {
    if (err) *err = missingController(need, flag, fix);
    return false;
  }
  if (l.memorySwap != 0 && !exists(std::string(kRoot) + "/memory/memory.memsw.limit_in_bytes")) {
    if (err) *err = "this kernel does not account swap (no memory.memsw.limit_in_bytes), so --memory-swap cannot be "
                    "applied; boot with swapaccount=1, or run without --memory-swap";
    return false;
  }
  if ((l.cpuQuota > 0 || l.cpuShares > 0) && !v1Mounted("cpu")) {
    if (err) *err = missingController("cpu", l.cpuQuota > 0 ? "--cpus" : "--cpu-shares", fix);
    return false;
  }
  if (l.pidsLimit > 0 && !v1Mounted("pids")) {
    if (err) *err = missingController("pids", "--pids-limit", fix);
    return false;
  }
  return true;
}

// v2 only hands a controller to a child cgroup when every ancestor enables it.
void enableV2Controllers(const std::string& parent) {
  std::string avail;
  readFile(std::string(kRoot) + "/cgroup.controllers", &avail);
  std::string want;
  for (const char* c : {"memory", "cpu", "pids", "io"}) {
    if (avail.find(c) != std::string::npos) want += std::string(want.empty() ? "+" : " +") + c;
  }
  std::string dir = kRoot;
  writeFile(dir + "/cgroup.subtree_control", want);
  for (const auto& part : split(parent, '/')) {
    if (part.empty()) continue;
    dir += "/" + part;
    mkdir(dir.c_str(), 0755);
    writeFile(dir + "/cgroup.subtree_control", want);
  }
}

}  // namespace

Version detect() {
  struct statfs fs;
  if (statfs(kRoot, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return Version::V2;
  return Version::V1;
}

const char* versionName(Version v) { return v == Version::V2 ? "v2" : "v1"; }

std::string unifiedPath(const std::string& parent, const std::string& id) {
  return detect() == Version::V2 ? v2Dir(parent, id) : "";
}

bool create(const std::string& parent, const std::string& id, const Limits& l, std::string* err) {
  int64_t swap = l.memorySwap;
  if (l.memory > 0 && swap == 0) swap = 2 * l.memory;  // docker's default: as much swap as memory
  if (detect() == Version::V2) {
    enableV2Controllers(parent);
    std::string dir = v2Dir(parent, id);
    if (!mkdirAll(dir, 0755)) {
      if (err) *err = cannotCreate(dir);
      return false;
    }
    bool ok = true;
    if (l.memory > 0) {
      ok = ok && setFile(dir, "memory.max", std::to_string(l.memory), err);
      // Past a missing memory controller (named by setFile), a missing
      // swap file means the kernel does not account swap.
      if (ok && l.memorySwap != 0 && !exists(dir + "/memory.swap.max")) {
        if (err) *err = "this kernel does not account swap (no memory.swap.max), so --memory-swap cannot be applied; "
                        "boot with swapaccount=1, or run without --memory-swap";
        ok = false;
      }
      // The implied swap limit (2x memory) goes where the kernel accounts
      // swap; one the user asked for is applied or refused.
      if (l.memorySwap != 0 || exists(dir + "/memory.swap.max"))
        ok = ok && setFile(dir, "memory.swap.max", swap < 0 ? "max" : std::to_string(swap - l.memory), err);
    }
    if (l.cpuQuota > 0)
      ok = ok && setFile(dir, "cpu.max", std::to_string(l.cpuQuota) + " " + std::to_string(l.cpuPeriod), err);
    if (l.cpuShares > 0) {
      // The conversion runc and the kernel docs use between v1 shares and v2 weight.
      int64_t weight = 1 + ((l.cpuShares - 2) * 9999) / 262142;
      ok = ok && setFile(dir, "cpu.weight", std::to_string(weight), err);
    }
    if (l.pidsLimit > 0) ok = ok && setFile(dir, "pids.max", std::to_string(l.pidsLimit), err);
    if (!ok) remove(parent, id);
    return ok;
  }
  if (!checkV1(l, err)) return false;
  bool ok = true;
  for (const char* c : kV1Controllers) {
    if (!v1Mounted(c)) continue;
    std::string dir = v1Dir(c, parent, id);
    if (!mkdirAll(dir, 0755)) {
      if (err) *err = cannotCreate(dir);
      ok = false;
      break;
    }
    if (!strcmp(c, "memory")) {
      setFile(dir, "memory.use_hierarchy", "1", nullptr);  // may be fixed by the parent: best effort
      if (l.memory > 0) {
        ok = ok && setFile(dir, "memory.limit_in_bytes", std::to_string(l.memory), err);
        if (exists(dir + "/memory.memsw.limit_in_bytes"))
          ok = ok && setFile(dir, "memory.memsw.limit_in_bytes", swap < 0 ? "-1" : std::to_string(swap), err);
      }
    } else if (!strcmp(c, "cpu")) {
      if (l.cpuQuota > 0) {
        ok = ok && setFile(dir, "cpu.cfs_period_us", std::to_string(l.cpuPeriod), err);
        ok = ok && setFile(dir, "cpu.cfs_quota_us", std::to_string(l.cpuQuota), err);
      }
      if (l.cpuShares > 0) ok = ok && setFile(dir, "cpu.shares", std::to_string(l.cpuShares), err);
    } else if (!strcmp(c, "pids")) {
      if (l.pidsLimit > 0) ok = ok && setFile(dir, "pids.max", std::to_string(l.pidsLimit), err);
    }
    if (!ok) break;
  }
  if (!ok) remove(parent, id);
  return ok;
}

bool attach(const std::string& parent, const std::string& id, int pid, std::string* err) {
  std::string p = std::to_string(pid);
  if (detect() == Version::V2) return setFile(v2Dir(parent, id), "cgroup.procs", p, err);
  for (const char* c : kV1Controllers) {
    if (!v1Mounted(c)) continue;
    if (!setFile(v1Dir(c, parent, id), "cgroup.procs", p, err)) return false;
  }
  return true;
}

// Usage less the inactive page cache, as docker shows it; -1 when unreadable.
int64_t workingSet(int64_t usage, int64_t inactive) {
  if (usage < 0) return -1;
  return inactive > 0 && inactive <= usage ? usage - inactive : usage;
}

// Sums the "KEY=N" (v2) or "MAJ:MIN Read N" (v1) counters of an io file.
void readIo(const std::string& file, bool v2, Stats* s) {
  std::string io;
  if (!readFile(file, &io)) return;
  s->blkioRead = s->blkioWrite = 0;
  for (const auto& line : splitLines(io)) {
    auto w = words(line);
    if (v2) {
      for (const auto& tok : w) {
        if (tok.compare(0, 7, "rbytes=") == 0) s->blkioRead += parseInt64(tok.substr(7), 0);
        if (tok.compare(0, 7, "wbytes=") == 0) s->blkioWrite += parseInt64(tok.substr(7), 0);
      }
    } else if (w.size() == 3) {
      if (w[1] == "Read") s->blkioRead += parseInt64(w[2], 0);
      if (w[1] == "Write") s->blkioWrite += parseInt64(w[2], 0);
    }
  }
}

bool read(const std::string& parent, const std::string& id, Stats* s) {
  if (detect() == Version::V2) {
    std::string dir = v2Dir(parent, id);
    if (!exists(dir)) return false;
    s->memoryUsage = workingSet(readNum(dir + "/memory.current"), readKey(dir + "/memory.stat", "inactive_file"));
    // memory.peak came with Linux 5.19; without it the peak is not known.
    s->memoryPeak = readNum(dir + "/memory.peak");
    s->memoryLimit = readNum(dir + "/memory.max", -1);
    int64_t usec = readKey(dir + "/cpu.stat", "usage_usec");
    s->cpuUsageNs = usec < 0 ? -1 : usec * 1000;
    s->pids = readNum(dir + "/pids.current");
    s->pidsLimit = readNum(dir + "/pids.max", -1);
    s->oomKills = readKey(dir + "/memory.events", "oom_kill", 0);
    readIo(dir + "/io.stat", true, s);
    return true;
  }
  std::string mem = v1Dir("memory", parent, id);
  std::string acct = v1Dir("cpuacct", parent, id);
  std::string pids = v1Dir("pids", parent, id);
  if (!exists(mem) && !exists(acct) && !exists(pids)) return false;
  s->memoryUsage = workingSet(readNum(mem + "/memory.usage_in_bytes"), readKey(mem + "/memory.stat", "total_inactive_file"));
  s->memoryPeak = readNum(mem + "/memory.max_usage_in_bytes");
  int64_t lim = readNum(mem + "/memory.limit_in_bytes", -1);
  // v1 reports "unlimited" as a huge page-aligned number.
  s->memoryLimit = (lim < 0 || lim >= (int64_t(1) << 62)) ? -1 : lim;
  s->oomKills = readKey(mem + "/memory.oom_control", "oom_kill", 0);
  s->cpuUsageNs = readNum(acct + "/cpuacct.usage");
  s->pids = readNum(pids + "/pids.current");
  s->pidsLimit = readNum(pids + "/pids.max", -1);
  std::string blkio = v1Dir("blkio", parent, id) + "/blkio.throttle.io_service_bytes";
  readIo(exists(blkio + "_recursive") ? blkio + "_recursive" : blkio, false, s);
  return true;
}

std::vector<int> procs(const std::string& parent, const std::string& id) {
  std::string dir = detect() == Version::V2 ? v2Dir(parent, id) : v1Dir("pids", parent, id);
  if (detect() == Version::V1 && !v1Mounted("pids")) dir = v1Dir("memory", parent, id);
  std::string s;
  std::vector<int> out;
  if (!readFile(dir + "/cgroup.procs", &s)) return out;
  for (const auto& line : splitLines(s)) {
    int64_t v = parseInt64(line, 0);
    if (v > 0) out.push_back(static_cast<int>(v));
  }
  return out;
}

void killAll(const std::string& parent, const std::string& id) {
  if (detect() == Version::V2 && writeFile(v2Dir(parent, id) + "/cgroup.kill", "1")) return;
  freeze(parent, id, true);  // so nothing forks between listing and killing
  for (int pid : procs(parent, id)) kill(pid, SIGKILL);
  freeze(parent, id, false);
}

// Returns once the kernel says every task is frozen (or thawed): freezing
// is asynchronous, and commit must not read while a task still writes.
bool freeze(const std::string& parent, const std::string& id, bool frozen) {
  bool v2 = detect() == Version::V2;
  if (!v2 && !v1Mounted("freezer")) return false;
  std::string file = v2 ? v2Dir(parent, id) + "/cgroup.freeze" : v1Dir("freezer", parent, id) + "/freezer.state";
  if (!writeFile(file, v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED"))) return false;
  for (int attempt = 0; attempt < 400; attempt++) {
    std::string s;
    if (v2) {
      if (readKey(v2Dir(parent, id) + "/cgroup.events", "frozen", -1) == (frozen ? 1 : 0)) return true;
    } else if (readFile(file, &s) && s.compare(0, frozen ? 6 : 7, frozen ? "FROZEN" : "THAWED") == 0) {
      return true;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return false;
}

std::vector<std::string> paths(const std::string& parent, const std::string& id) {
  std::vector<std::string> out;
  if (detect() == Version::V2) {
    out.push_back(v2Dir(parent, id));
  } else {
    for (const char* c : kV1Controllers)
      if (v1Mounted(c)) out.push_back(v1Dir(c, parent, id));
  }
  return out;
}

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
      struct timespec ts = {0, 5 * 1000 * 1000};
      nanosleep(&ts, nullptr);
      if (attempt == 199) ok = false;
    }
  }
  return ok;
}

}  // namespace cgroup
}  // namespace berth

// cgroup v2: one unified hierarchy. A controller reaches the container's
// cgroup only when every ancestor enables it in cgroup.subtree_control; a
// limit whose control file is then missing refuses the run.
#include <sys/stat.h>

#include "cgroup-backend.h"
#include "device-filter.h"
#include "fsutil.h"

namespace berth {
namespace cgroup {

namespace {

std::string dirOf(const std::string& parent, const std::string& id) {
  return std::string(kRoot) + "/" + parent + "/" + id;
}

// Each level hands down what it has of these: a subtree delegated to a user
// may offer fewer controllers than the root, and one unknown name would
// fail the whole write. Levels the caller may not write (above a delegated
// subtree) are left as their owner set them.
void enableControllers(const std::string& parent) {
  auto enable = [](const std::string& dir) {
    std::string avail, want;
    readFile(dir + "/cgroup.controllers", &avail);
    auto have = words(trim(avail));
    for (const char* c : {"memory", "cpu", "pids", "io", "cpuset"})
      for (const auto& h : have)
        if (h == c) want += std::string(want.empty() ? "+" : " +") + c;
    if (!want.empty()) writeFile(dir + "/cgroup.subtree_control", want);
  };
  std::string dir = kRoot;
  enable(dir);
  for (const auto& part : split(parent, '/')) {
    if (part.empty()) continue;
    dir += "/" + part;
    mkdir(dir.c_str(), 0755);
    enable(dir);
  }
}

bool applyMemory(const std::string& dir, const Limits& l, std::string* err) {
  if (l.memory <= 0) return true;
  if (!setFile(dir, "memory.max", std::to_string(l.memory), err)) return false;
  bool accounted = exists(dir + "/memory.swap.max");
  // Past a missing memory controller (named by setFile), a missing swap
  // file means the kernel does not account swap.
  if (l.memorySwap != 0 && !accounted) {
    if (err) *err = "this kernel does not account swap (no memory.swap.max), so --memory-swap cannot be applied; "
                    "boot with swapaccount=1, or run without --memory-swap";
    return false;
  }
  // The implied swap limit (2x memory) goes where the kernel accounts swap;
  // one the user asked for is applied or refused.
  int64_t swap = swapTotal(l);
  return !accounted || setFile(dir, "memory.swap.max", swap < 0 ? "max" : std::to_string(swap - l.memory), err);
}

// Block I/O: io.max per device ("MAJ:MIN rbps=N wiops=N"), and io.weight,
// which the kernel offers only where a weight-based policy (iocost, BFQ) is
// built in: without it --blkio-weight is refused.
bool applyIo(const std::string& dir, const Limits& l, std::string* err) {
  for (const auto& t : l.throttles)
    if (!setFile(dir, "io.max", t.device + " " + t.kind + "=" + std::to_string(t.rate), err)) return false;
  if (l.blkioWeight <= 0) return true;
  if (!exists(dir + "/io.weight")) {
    if (err) *err = "this kernel offers no I/O weight (no io.weight: iocost or BFQ is needed), so --blkio-weight cannot be applied; run without it";
    return false;
  }
  // runc's conversion from docker's 10..1000 to v2's 1..10000.
  return setFile(dir, "io.weight", "default " + std::to_string(1 + (l.blkioWeight - 10) * 9999 / 990), err);
}

class V2 : public Backend {
 public:
  bool create(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const override {
    enableControllers(parent);
    std::string dir = dirOf(parent, id);
    if (!mkdirAll(dir, 0755)) {
      if (err) *err = cannotCreate(dir);
      return false;
    }
    if (l.restrictDevices && !attachDeviceFilter(dir, allowedDevices(l), err)) return false;
    return apply(parent, id, l, err);
  }

  bool apply(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const override {
    std::string dir = dirOf(parent, id);
    if (!applyMemory(dir, l, err)) return false;
    if (l.memoryReservation > 0 && !setFile(dir, "memory.low", std::to_string(l.memoryReservation), err)) return false;
    if (!l.cpusetCpus.empty() && !setFile(dir, "cpuset.cpus", l.cpusetCpus, err)) return false;
    if (l.cpuQuota > 0 && !setFile(dir, "cpu.max", std::to_string(l.cpuQuota) + " " + std::to_string(l.cpuPeriod), err))
      return false;
    // The conversion runc and the kernel docs use between v1 shares and v2 weight.
    if (l.cpuShares > 0 && !setFile(dir, "cpu.weight", std::to_string(1 + ((l.cpuShares - 2) * 9999) / 262142), err))
      return false;
    if (l.pidsLimit > 0 && !setFile(dir, "pids.max", std::to_string(l.pidsLimit), err)) return false;
    return applyIo(dir, l, err);
  }

  bool attach(const std::string& parent, const std::string& id, int pid, std::string* err) const override {
    return setFile(dirOf(parent, id), "cgroup.procs", std::to_string(pid), err);
  }

  std::string unifiedPath(const std::string& parent, const std::string& id) const override { return dirOf(parent, id); }

  bool read(const std::string& parent, const std::string& id, Stats* s) const override {
    std::string dir = dirOf(parent, id);
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

  std::string procsDir(const std::string& parent, const std::string& id) const override { return dirOf(parent, id); }

  bool killAtOnce(const std::string& parent, const std::string& id) const override {
    return writeFile(dirOf(parent, id) + "/cgroup.kill", "1");
  }

  bool setFrozen(const std::string& parent, const std::string& id, bool frozen) const override {
    return writeFile(dirOf(parent, id) + "/cgroup.freeze", frozen ? "1" : "0");
  }

  int frozenNow(const std::string& parent, const std::string& id) const override {
    return static_cast<int>(readKey(dirOf(parent, id) + "/cgroup.events", "frozen", -1));
  }

  std::vector<std::string> dirs(const std::string& parent, const std::string& id) const override {
    return {dirOf(parent, id)};
  }
};

}  // namespace

const Backend& v2Backend() {
  static const V2 backend;
  return backend;
}

}  // namespace cgroup
}  // namespace berth

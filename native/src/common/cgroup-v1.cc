// cgroup v1: one hierarchy per controller under /sys/fs/cgroup/CONTROLLER.
// The container's cgroup is made in every hierarchy Berth uses that is
// mounted; a limit whose controller is not mounted refuses the run.
#include <sys/stat.h>

#include <cstring>

#include "cgroup-backend.h"
#include "fsutil.h"

namespace berth {
namespace cgroup {

namespace {

// cpu and cpuacct may be co-mounted (then both names lead to one directory
// and the second mkdir/rmdir is a no-op).
const char* kControllers[] = {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer", "cpuset", "devices"};

std::string firstLine(const std::string& file) {
  std::string s;
  readFile(file, &s);
  auto w = words(s.substr(0, s.find('\n')));
  return w.empty() ? "" : w[0];
}

// A v1 cpuset cgroup takes no task until its cpus and mems are set, and a
// new one starts empty: each level Berth makes inherits its parent's. It is
// made only for a container that asks for --cpuset-cpus.
bool initCpuset(const std::string& dir, std::string* err) {
  std::string base = std::string(kRoot) + "/cpuset";
  std::string path = base;
  for (const auto& part : split(dir.substr(base.size()), '/')) {
    if (part.empty()) continue;
    std::string parent = path;
    path += "/" + part;
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      if (!firstLine(path + "/" + f).empty()) continue;
      if (!setFile(path, f, firstLine(parent + "/" + f), err)) return false;
    }
  }
  return true;
}

// cpuset and devices cgroups are made only for a container that needs them
// (--cpuset-cpus; a device allow list, set only at create).
bool wanted(const char* c, const Limits& l) {
  if (!strcmp(c, "cpuset")) return !l.cpusetCpus.empty();
  if (!strcmp(c, "devices")) return l.restrictDevices;
  return true;
}

bool madeOnDemand(const char* c) { return !strcmp(c, "cpuset") || !strcmp(c, "devices"); }

std::string dirOf(const char* ctrl, const std::string& parent, const std::string& id) {
  return std::string(kRoot) + "/" + ctrl + "/" + parent + "/" + id;
}

bool mounted(const char* ctrl) { return exists(std::string(kRoot) + "/" + ctrl + "/cgroup.procs"); }

std::string missingController(const char* ctrl, const char* flag) {
  return std::string("the ") + ctrl + " cgroup controller is not available, so " + flag +
         " cannot be applied; mount its hierarchy under /sys/fs/cgroup, or run without this limit";
}

// Every controller a requested limit needs must be mounted: a limit is
// applied or the run is refused, never dropped.
bool check(const Limits& l, std::string* err) {
  bool any = false;
  for (const char* c : kControllers) any = any || mounted(c);
  std::string problem;
  if (!any) {
    problem = kNoHierarchy;
  } else if ((l.memory > 0 || l.memorySwap != 0) && !mounted("memory")) {
    problem = missingController("memory", l.memory > 0 ? "--memory" : "--memory-swap");
  } else if (l.memorySwap != 0 && !exists(std::string(kRoot) + "/memory/memory.memsw.limit_in_bytes")) {
    problem = "this kernel does not account swap (no memory.memsw.limit_in_bytes), so --memory-swap cannot be "
              "applied; boot with swapaccount=1, or run without --memory-swap";
  } else if ((l.cpuQuota > 0 || l.cpuShares > 0) && !mounted("cpu")) {
    problem = missingController("cpu", l.cpuQuota > 0 ? "--cpus" : "--cpu-shares");
  } else if (l.pidsLimit > 0 && !mounted("pids")) {
    problem = missingController("pids", "--pids-limit");
  } else if (!l.cpusetCpus.empty() && !mounted("cpuset")) {
    problem = missingController("cpuset", "--cpuset-cpus");
  } else if ((l.blkioWeight > 0 || !l.throttles.empty()) && !mounted("blkio")) {
    problem = missingController("blkio", l.blkioWeight > 0 ? "--blkio-weight" : "--device-read-bps and the like");
  } else if (l.restrictDevices && !mounted("devices")) {
    problem = "the devices cgroup controller is not mounted, so the container's access to device nodes cannot be limited; "
              "mount its hierarchy at /sys/fs/cgroup/devices";
  }
  if (problem.empty()) return true;
  if (err) *err = problem;
  return false;
}

// memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, so a
// raise writes the swap total first and a cut writes it last.
bool applyMemory(const std::string& dir, const Limits& l, std::string* err) {
  if (l.memoryReservation > 0 && !setFile(dir, "memory.soft_limit_in_bytes", std::to_string(l.memoryReservation), err)) return false;
  if (l.memory <= 0) return true;
  int64_t swap = swapTotal(l);
  std::string total = swap < 0 ? "-1" : std::to_string(swap);
  if (!exists(dir + "/memory.memsw.limit_in_bytes")) return setFile(dir, "memory.limit_in_bytes", std::to_string(l.memory), err);
  if (setFile(dir, "memory.limit_in_bytes", std::to_string(l.memory), nullptr))
    return setFile(dir, "memory.memsw.limit_in_bytes", total, err);
  return setFile(dir, "memory.memsw.limit_in_bytes", total, err) && setFile(dir, "memory.limit_in_bytes", std::to_string(l.memory), err);
}

// Block I/O: the throttle files per device, and a weight where the
// scheduler offers one (blkio.weight with CFQ, blkio.bfq.weight with BFQ).
bool applyBlkio(const std::string& dir, const Limits& l, std::string* err) {
  for (const auto& t : l.throttles) {
    std::string file = std::string("blkio.throttle.") + (t.kind[0] == 'r' ? "read_" : "write_") + (t.kind.find("iops") != std::string::npos ? "iops" : "bps") + "_device";
    if (!setFile(dir, file.c_str(), t.device + " " + std::to_string(t.rate), err)) return false;
  }
  if (l.blkioWeight <= 0) return true;
  for (const char* f : {"blkio.weight", "blkio.bfq.weight"})
    if (exists(dir + "/" + f)) return setFile(dir, f, std::to_string(l.blkioWeight), err);
  if (err) *err = "this kernel's I/O scheduler offers no weight (no blkio.weight or blkio.bfq.weight), so --blkio-weight cannot be applied; run without it";
  return false;
}

bool applyLimits(const char* c, const std::string& dir, const Limits& l, std::string* err) {
  if (!strcmp(c, "memory")) return applyMemory(dir, l, err);
  if (!strcmp(c, "cpuset")) return l.cpusetCpus.empty() || (initCpuset(dir, err) && setFile(dir, "cpuset.cpus", l.cpusetCpus, err));
  if (!strcmp(c, "cpu")) {
    if (l.cpuQuota > 0 && !(setFile(dir, "cpu.cfs_period_us", std::to_string(l.cpuPeriod), err) &&
                            setFile(dir, "cpu.cfs_quota_us", std::to_string(l.cpuQuota), err)))
      return false;
    return l.cpuShares <= 0 || setFile(dir, "cpu.shares", std::to_string(l.cpuShares), err);
  }
  if (!strcmp(c, "blkio")) return applyBlkio(dir, l, err);
  if (!strcmp(c, "pids")) return l.pidsLimit <= 0 || setFile(dir, "pids.max", std::to_string(l.pidsLimit), err);
  if (!strcmp(c, "devices")) {
    // Deny everything, then allow the list; no task is in the cgroup yet.
    if (!setFile(dir, "devices.deny", "a", err)) return false;
    for (const auto& r : allowedDevices(l))
      if (!setFile(dir, "devices.allow", ruleText(r), err)) return false;
  }
  return true;
}

class V1 : public Backend {
 public:
  bool create(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const override {
    if (!check(l, err)) return false;
    for (const char* c : kControllers) {
      if (!mounted(c) || !wanted(c, l)) continue;
      std::string dir = dirOf(c, parent, id);
      if (!mkdirAll(dir, 0755)) {
        if (err) *err = cannotCreate(dir);
        return false;
      }
      if (!strcmp(c, "memory")) setFile(dir, "memory.use_hierarchy", "1", nullptr);  // may be fixed by the parent: best effort
    }
    return apply(parent, id, l, err);
  }

  bool apply(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const override {
    if (!check(l, err)) return false;
    for (const char* c : kControllers) {
      if (!mounted(c) || !wanted(c, l)) continue;
      std::string dir = dirOf(c, parent, id);
      // A cpuset cgroup is made on first use, by update as well; then the
      // container's running processes move into it.
      bool fresh = !strcmp(c, "cpuset") && !exists(dir);
      if (fresh && !mkdirAll(dir, 0755)) {
        if (err) *err = cannotCreate(dir);
        return false;
      }
      if (!applyLimits(c, dir, l, err)) return false;
      if (fresh) {
        std::string procs;
        readFile(procsDir(parent, id) + "/cgroup.procs", &procs);
        for (const auto& pid : splitLines(procs))
          if (!pid.empty() && !setFile(dir, "cgroup.procs", pid, err)) return false;
      }
    }
    return true;
  }

  bool attach(const std::string& parent, const std::string& id, int pid, std::string* err) const override {
    for (const char* c : kControllers) {
      std::string dir = dirOf(c, parent, id);
      if (!mounted(c) || (madeOnDemand(c) && !exists(dir))) continue;
      if (!setFile(dir, "cgroup.procs", std::to_string(pid), err)) return false;
    }
    return true;
  }

  std::string unifiedPath(const std::string&, const std::string&) const override { return ""; }

  bool read(const std::string& parent, const std::string& id, Stats* s) const override {
    std::string mem = dirOf("memory", parent, id);
    std::string acct = dirOf("cpuacct", parent, id);
    std::string pids = dirOf("pids", parent, id);
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
    std::string blkio = dirOf("blkio", parent, id) + "/blkio.throttle.io_service_bytes";
    readIo(exists(blkio + "_recursive") ? blkio + "_recursive" : blkio, false, s);
    return true;
  }

  std::string procsDir(const std::string& parent, const std::string& id) const override {
    return dirOf(mounted("pids") ? "pids" : "memory", parent, id);
  }

  bool killAtOnce(const std::string&, const std::string&) const override { return false; }

  bool setFrozen(const std::string& parent, const std::string& id, bool frozen) const override {
    return mounted("freezer") && writeFile(dirOf("freezer", parent, id) + "/freezer.state", frozen ? "FROZEN" : "THAWED");
  }

  int frozenNow(const std::string& parent, const std::string& id) const override {
    std::string s;
    if (!readFile(dirOf("freezer", parent, id) + "/freezer.state", &s)) return -1;
    return s.compare(0, 6, "FROZEN") == 0 ? 1 : s.compare(0, 7, "THAWED") == 0 ? 0 : -1;
  }

  std::vector<std::string> dirs(const std::string& parent, const std::string& id) const override {
    std::vector<std::string> out;
    for (const char* c : kControllers)
      if (mounted(c)) out.push_back(dirOf(c, parent, id));
    return out;
  }
};

}  // namespace

const Backend& v1Backend() {
  static const V1 backend;
  return backend;
}

}  // namespace cgroup
}  // namespace berth

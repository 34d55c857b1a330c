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
const char* kControllers[] = {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer"};

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
  }
  if (problem.empty()) return true;
  if (err) *err = problem;
  return false;
}

bool applyLimits(const char* c, const std::string& dir, const Limits& l, std::string* err) {
  if (!strcmp(c, "memory")) {
    setFile(dir, "memory.use_hierarchy", "1", nullptr);  // may be fixed by the parent: best effort
    if (l.memory <= 0) return true;
    int64_t swap = swapTotal(l);
    if (!setFile(dir, "memory.limit_in_bytes", std::to_string(l.memory), err)) return false;
    return !exists(dir + "/memory.memsw.limit_in_bytes") ||
           setFile(dir, "memory.memsw.limit_in_bytes", swap < 0 ? "-1" : std::to_string(swap), err);
  }
  if (!strcmp(c, "cpu")) {
    if (l.cpuQuota > 0 && !(setFile(dir, "cpu.cfs_period_us", std::to_string(l.cpuPeriod), err) &&
                            setFile(dir, "cpu.cfs_quota_us", std::to_string(l.cpuQuota), err)))
      return false;
    return l.cpuShares <= 0 || setFile(dir, "cpu.shares", std::to_string(l.cpuShares), err);
  }
  if (!strcmp(c, "pids")) return l.pidsLimit <= 0 || setFile(dir, "pids.max", std::to_string(l.pidsLimit), err);
  return true;
}

class V1 : public Backend {
 public:
  bool create(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const override {
    if (!check(l, err)) return false;
    for (const char* c : kControllers) {
      if (!mounted(c)) continue;
      std::string dir = dirOf(c, parent, id);
      if (!mkdirAll(dir, 0755)) {
        if (err) *err = cannotCreate(dir);
        return false;
      }
      if (!applyLimits(c, dir, l, err)) return false;
    }
    return true;
  }

  bool attach(const std::string& parent, const std::string& id, int pid, std::string* err) const override {
    for (const char* c : kControllers) {
      if (mounted(c) && !setFile(dirOf(c, parent, id), "cgroup.procs", std::to_string(pid), err)) return false;
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

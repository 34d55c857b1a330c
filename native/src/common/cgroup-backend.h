// The two ways a container's cgroup is kept: cgroup v1 (one hierarchy per
// controller, as on hybrid hosts) and cgroup v2 (one unified hierarchy).
// cgroup.cc picks the backend once per call by what is mounted and asks it;
// neither backend branches on the version. Shared helpers for reading and
// writing control files are at the bottom.
#pragma once
#include <string>
#include <vector>

#include "cgroup.h"

namespace berth {
namespace cgroup {

class Backend {
 public:
  virtual ~Backend() = default;
  // Makes PARENT/ID and applies every limit, or fails naming what is missing.
  virtual bool create(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const = 0;
  // Writes the limits that are set into an existing cgroup.
  virtual bool apply(const std::string& parent, const std::string& id, const Limits& l, std::string* err) const = 0;
  virtual bool attach(const std::string& parent, const std::string& id, int pid, std::string* err) const = 0;
  // The v2 directory (for CLONE_INTO_CGROUP); empty where there is none.
  virtual std::string unifiedPath(const std::string& parent, const std::string& id) const = 0;
  virtual bool read(const std::string& parent, const std::string& id, Stats* s) const = 0;
  // The directory whose cgroup.procs lists the container's processes.
  virtual std::string procsDir(const std::string& parent, const std::string& id) const = 0;
  // Kills everything at once where the kernel can (v2's cgroup.kill).
  virtual bool killAtOnce(const std::string& parent, const std::string& id) const = 0;
  // Writes the freezer's state; the caller waits until frozenNow agrees.
  virtual bool setFrozen(const std::string& parent, const std::string& id, bool frozen) const = 0;
  virtual int frozenNow(const std::string& parent, const std::string& id) const = 0;  // 1, 0, or -1 unknown
  // Every directory the container's cgroup occupies.
  virtual std::vector<std::string> dirs(const std::string& parent, const std::string& id) const = 0;
};

const Backend& v1Backend();
const Backend& v2Backend();

// ---- helpers shared by the backends ----------------------------------------

extern const char* kRoot;  // /sys/fs/cgroup
extern const char* kNoHierarchy;

// Writes a control file; err says which controller is missing or why it failed.
bool setFile(const std::string& dir, const char* file, const std::string& value, std::string* err);
// Figures a file cannot give are `fallback` (-1: "not measured"), never 0.
int64_t readNum(const std::string& path, int64_t fallback = -1);
// Reads "key value" lines (memory.stat, cpu.stat, memory.events).
int64_t readKey(const std::string& path, const std::string& key, int64_t missing = -1);
// The message for a failed mkdir, with advice chosen by errno.
std::string cannotCreate(const std::string& dir);
// Usage less the inactive page cache, as docker shows it; -1 when unreadable.
int64_t workingSet(int64_t usage, int64_t inactive);
// Sums the "KEY=N" (v2) or "MAJ:MIN Read N" (v1) counters of an io file.
void readIo(const std::string& file, bool v2, Stats* s);
// docker's default swap: as much as memory; -1 unlimited.
int64_t swapTotal(const Limits& l);

}  // namespace cgroup
}  // namespace berth

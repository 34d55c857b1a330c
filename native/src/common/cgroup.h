// cgroup management for one container, behind one interface for cgroup v1
// (per-controller hierarchies, as on hybrid hosts) and cgroup v2 (unified).
// A container's cgroup is PARENT/ID in every hierarchy it uses.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace berth {
namespace cgroup {

enum class Version { V1, V2 };

// One line of a device allow list: type 'a' (any), 'c' or 'b'; -1 for a
// wildcard number; access is a subset of "rwm".
struct DeviceRule {
  char type = 'a';
  int64_t major = -1, minor = -1;
  std::string access = "rwm";
};

struct Limits {
  int64_t memory = 0;       // bytes; 0 = unlimited
  int64_t memorySwap = 0;   // memory + swap in bytes, docker's meaning; 0 = default (2x memory), -1 = unlimited
  int64_t cpuQuota = 0;     // microseconds per period; 0 = unlimited
  int64_t cpuPeriod = 100000;
  int64_t cpuShares = 0;    // docker's shares (2..262144); 0 = default
  int64_t pidsLimit = 0;    // 0 or negative = unlimited
  int64_t memoryReservation = 0;  // bytes the kernel tries to leave the container under pressure; 0 = none
  std::string cpusetCpus;   // "0-2,4"; empty = every CPU
  int64_t blkioWeight = 0;  // docker's 10..1000; 0 = default
  struct Throttle {
    std::string kind;       // rbps, wbps, riops, wiops (v2's io.max keys)
    std::string device;     // MAJ:MIN
    int64_t rate;
  };
  std::vector<Throttle> throttles;
  // The device cgroup: when set, only docker's default nodes and the rules
  // in devices may be opened or made (devices.allow on v1, a
  // BPF_CGROUP_DEVICE program on v2). Applied at create only.
  bool restrictDevices = false;
  std::vector<DeviceRule> devices;
};

// docker's default allow list (null, zero, full, random, urandom, tty,
// console, ptmx, the pty slaves, and mknod of anything) plus the extras.
std::vector<DeviceRule> allowedDevices(const Limits& l);
// "c 1:5 rwm", the v1 devices.allow form.
std::string ruleText(const DeviceRule& r);

// -1 in a figure means it could not be read ("not measured"), never zero.
struct Stats {
  int64_t memoryUsage = -1;  // bytes, page cache of inactive files excluded (as docker shows it)
  int64_t memoryPeak = -1;
  int64_t memoryLimit = -1;  // -1 = unlimited
  int64_t cpuUsageNs = -1;
  int64_t pids = -1;
  int64_t pidsLimit = -1;    // -1 = unlimited
  int64_t blkioRead = -1;
  int64_t blkioWrite = -1;
  int64_t oomKills = 0;
};

Version detect();
const char* versionName(Version v);

// Creates the cgroup and applies the limits. A limit that cannot be applied
// (no hierarchy, controller missing, no permission) fails the whole call,
// and err names the controller and what to do.
bool create(const std::string& parent, const std::string& id, const Limits& limits, std::string* err);
// Changes the limits of an existing cgroup (docker update): only what is
// set in limits (non-zero, non-empty) is written; err says what failed.
bool update(const std::string& parent, const std::string& id, const Limits& limits, std::string* err);
// Moves pid into the cgroup (every v1 hierarchy, or the v2 one).
bool attach(const std::string& parent, const std::string& id, int pid, std::string* err);
// Path of the v2 cgroup directory (for CLONE_INTO_CGROUP); empty on v1.
std::string unifiedPath(const std::string& parent, const std::string& id);
bool read(const std::string& parent, const std::string& id, Stats* out);
std::vector<int> procs(const std::string& parent, const std::string& id);
// Kills every process in the cgroup with SIGKILL.
void killAll(const std::string& parent, const std::string& id);
bool freeze(const std::string& parent, const std::string& id, bool frozen);
// Removes the cgroup, retrying briefly while the last tasks are reaped.
bool remove(const std::string& parent, const std::string& id);
// Every directory this container's cgroup occupies (for leak checks).
std::vector<std::string> paths(const std::string& parent, const std::string& id);

}  // namespace cgroup
}  // namespace berth

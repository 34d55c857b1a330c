#include "cgroupfs.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "../common/cgroup.h"
#include "../common/fsutil.h"

namespace berth {

namespace {

const unsigned long kFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;

bool mountOr(const char* src, const std::string& target, const char* type, unsigned long flags, const char* data, std::string* err) {
  if (mount(src, target.c_str(), type, flags, data) == 0) return true;
  *err = std::string("mounting the container's cgroup file system on ") + target + ": " + strerror(errno);
  return false;
}

struct V1Mount {
  std::string dir;      // the host's mount point name under /sys/fs/cgroup ("cpu,cpuacct")
  std::string options;  // what selects the hierarchy ("cpu,cpuacct", "name=systemd")
};

// The host's v1 hierarchies that hold the container's own cgroup, from its
// mountinfo: the same ones are mounted in the container, each showing that
// cgroup as its root. Hierarchies Berth does not place containers in
// (cpuset, devices, name=systemd) would show the shim's cgroup, part of the
// host's tree, so they stay out.
bool holdsContainer(const std::string& options) {
  for (const auto& o : split(options, ','))
    for (const char* c : {"memory", "cpu", "cpuacct", "pids", "blkio", "freezer"})
      if (o == c) return true;
  return false;
}

std::vector<V1Mount> v1Hierarchies() {
  std::vector<V1Mount> out;
  std::string info;
  if (!readFile("/proc/self/mountinfo", &info)) return out;
  for (const auto& line : splitLines(info)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto pre = words(line.substr(0, dash));
    auto post = words(line.substr(dash + 3));
    if (pre.size() < 5 || post.size() < 3 || post[0] != "cgroup") continue;
    const std::string prefix = "/sys/fs/cgroup/";
    if (pre[4].compare(0, prefix.size(), prefix) != 0) continue;
    std::string opts;
    for (const auto& o : split(post[2], ',')) {
      if (o == "rw" || o == "ro" || o == "nosuid" || o == "nodev" || o == "noexec" || o == "relatime" || o == "clone_children" ||
          o.compare(0, 14, "release_agent=") == 0)
        continue;
      opts += (opts.empty() ? "" : ",") + o;
    }
    if (holdsContainer(opts)) out.push_back({pre[4].substr(prefix.size()), opts});
  }
  return out;
}

}  // namespace

bool mountCgroupFs(const std::string& root, bool ownCgroup, std::string* err) {
  std::string dir = root + "/sys/fs/cgroup";
  if (!exists(dir)) return true;  // a sysfs without the mount point: nothing to show
  if (!ownCgroup) return mountOr("tmpfs", dir, "tmpfs", kFlags, "mode=755,size=0", err);
  if (cgroup::detect() == cgroup::Version::V2) return mountOr("cgroup2", dir, "cgroup2", kFlags, nullptr, err);
  // v1: a tmpfs holding one mount per hierarchy, and the links docker makes
  // for co-mounted controllers (cpu -> cpu,cpuacct), then made read-only.
  if (!mountOr("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k", err)) return false;
  for (const auto& h : v1Hierarchies()) {
    if (h.dir.find('/') != std::string::npos || h.dir == "unified") continue;
    std::string target = dir + "/" + h.dir;
    mkdir(target.c_str(), 0755);
    if (!mountOr("cgroup", target, "cgroup", kFlags, h.options.c_str(), err)) return false;
    if (h.dir.find(',') != std::string::npos) {
      for (const auto& part : split(h.dir, ',')) {
        if (symlink(h.dir.c_str(), (dir + "/" + part).c_str()) != 0 && errno != EEXIST) {}
      }
    }
  }
  return mountOr(nullptr, dir, nullptr, MS_REMOUNT | MS_BIND | kFlags, nullptr, err);
}

}  // namespace berth

#include <errno.h>

#include <cstring>

#include "cgroup-backend.h"
#include "fsutil.h"

namespace berth {
namespace cgroup {

const char* kRoot = "/sys/fs/cgroup";

const char* kNoHierarchy =
    "no cgroup hierarchy is mounted at /sys/fs/cgroup, so Berth can neither limit nor account for the container; "
    "mount it (it is missing where /sys was remounted, as `ip netns exec` does: use `nsenter --net` or "
    "`unshare --net` instead)";

std::vector<DeviceRule> allowedDevices(const Limits& l) {
  std::vector<DeviceRule> out = {
      {'c', -1, -1, "m"}, {'b', -1, -1, "m"},                        // mknod of anything: opening is what counts
      {'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"},    // null, zero, full
      {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},                        // random, urandom
      {'c', 5, 0, "rwm"}, {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"},    // tty, console, ptmx
      {'c', 136, -1, "rwm"},                                         // the pty slaves in /dev/pts
  };
  out.insert(out.end(), l.devices.begin(), l.devices.end());
  return out;
}

std::string ruleText(const DeviceRule& r) {
  auto num = [](int64_t n) { return n < 0 ? std::string("*") : std::to_string(n); };
  if (r.type == 'a') return "a";
  return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
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

int64_t readNum(const std::string& path, int64_t fallback) {
  std::string s;
  if (!readFile(path, &s)) return fallback;
  return parseInt64(s, fallback);
}

int64_t readKey(const std::string& path, const std::string& key, int64_t missing) {
  std::string s;
  if (!readFile(path, &s)) return missing;
  for (const auto& line : splitLines(s)) {
    if (line.compare(0, key.size() + 1, key + " ") == 0) return parseInt64(line.substr(key.size() + 1), 0);
  }
  return missing;
}

std::string cannotCreate(const std::string& dir) {
  int e = errno;
  std::string s = "cannot create the container's cgroup " + dir + ": " + strerror(e);
  if (e == EACCES || e == EPERM || e == EROFS)
    s += "; a container needs a cgroup of its own, and this user may not make one: run Berth as root "
         "(rootless containers are not supported yet)";
  return s;
}

int64_t workingSet(int64_t usage, int64_t inactive) {
  if (usage < 0) return -1;
  return inactive > 0 && inactive <= usage ? usage - inactive : usage;
}

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

int64_t swapTotal(const Limits& l) {
  return l.memory > 0 && l.memorySwap == 0 ? 2 * l.memory : l.memorySwap;
}

}  // namespace cgroup
}  // namespace berth

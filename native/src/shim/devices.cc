#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "../common/fsutil.h"
#include "rootless.h"

namespace berth {

namespace {

bool fail(std::string* err, const std::string& what) {
  *err = what + ": " + strerror(errno);
  return false;
}

// The container path below /dev, refused if any part could leave it.
bool relativeUnderDev(const std::string& path, std::string* rel) {
  if (path.compare(0, 5, "/dev/") != 0) return false;
  rel->clear();
  for (const auto& p : split(path.substr(5), '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") return false;
    *rel += (rel->empty() ? "" : "/") + p;
  }
  return !rel->empty();
}

}  // namespace

bool makeDevices(const std::string& dev, const ContainerConfig& c, std::string* err) {
  int devfd = open(dev.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (devfd < 0) return fail(err, "opening the container's /dev");
  bool ok = true;
  for (const auto& d : c.devices) {
    std::string rel;
    if (!relativeUnderDev(d.path, &rel)) {
      *err = "device path " + d.path + " is not inside /dev";
      ok = false;
      break;
    }
    // Parents are made one at a time and never through a symlink: /dev is
    // a fresh tmpfs, and the links Berth adds come after the devices.
    int dir = dup(devfd);
    auto parts = split(rel, '/');
    for (size_t i = 0; ok && i + 1 < parts.size(); i++) {
      if (mkdirat(dir, parts[i].c_str(), 0755) != 0 && errno != EEXIST) ok = fail(err, "creating the directory of " + d.path);
      int next = ok ? openat(dir, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
      if (ok && next < 0) ok = fail(err, "opening the directory of " + d.path);
      close(dir);
      dir = next;
    }
    if (!ok) break;
    const char* name = parts.back().c_str();
    unlinkat(dir, name, 0);  // a device given the name of a default node replaces it
    mode_t type = d.type == 'b' ? S_IFBLK : S_IFCHR;
    if (!rootless()) {
      // chmod after mknod: the mode given is exact, whatever the umask.
      ok = (mknodat(dir, name, type | (d.mode & 07777), makedev(d.major, d.minor)) == 0 &&
            fchownat(dir, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) == 0 && fchmodat(dir, name, d.mode & 07777, 0) == 0) ||
           fail(err, "making the device node " + d.path);
    } else {
      // Bind the host's node, checking it is still the device that was asked for.
      struct stat st;
      int made = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
      int src = open(d.hostPath.c_str(), O_PATH | O_CLOEXEC);
      if (made < 0 || src < 0) {
        ok = fail(err, "binding the device " + d.hostPath);
      } else if (fstat(src, &st) != 0 || (st.st_mode & S_IFMT) != type || major(st.st_rdev) != d.major || minor(st.st_rdev) != d.minor) {
        *err = "the device " + d.hostPath + " changed while the container was being made";
        ok = false;
      } else {
        std::string target = "/proc/self/fd/" + std::to_string(made), from = "/proc/self/fd/" + std::to_string(src);
        ok = mount(from.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0 || fail(err, "binding the device " + d.hostPath);
      }
      if (made >= 0) close(made);
      if (src >= 0) close(src);
    }
    close(dir);
    if (!ok) break;
  }
  close(devfd);
  return ok;
}

}  // namespace berth

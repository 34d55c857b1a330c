#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "../common/fsutil.h"
#include "cgroupfs.h"
#include "devices.h"
#include "hooks.h"
#include "mounts.h"
#include "rootless.h"

namespace berth {

namespace {

// The paths Docker masks and makes read-only by default.
const char* kMasked[] = {"/proc/asound",      "/proc/acpi",          "/proc/kcore",
                         "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                         "/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
                         "/sys/firmware",     "/sys/devices/virtual/powercap"};
const char* kReadonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

bool fail(std::string* err, const std::string& what) {
  *err = what + ": " + strerror(errno);
  return false;
}

bool doMount(const char* src, const std::string& target, const char* type, unsigned long flags, const char* data,
             std::string* err) {
  if (mount(src, target.c_str(), type, flags, data) == 0) return true;
  return fail(err, std::string("mount ") + (type ? type : src ? src : "") + " on " + target);
}

bool ensureDir(const std::string& p) { return mkdir(p.c_str(), 0755) == 0 || errno == EEXIST; }

bool setupDev(const std::string& root, const ContainerConfig& c, std::string* err) {
  std::string dev = root + "/dev";
  ensureDir(dev);
  if (!doMount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", err)) return false;
  struct Node {
    const char* name;
    unsigned maj, min;
  } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  mode_t old = umask(0);
  for (const auto& n : nodes) {
    std::string p = dev + "/" + n.name;
    if (mknod(p.c_str(), S_IFCHR | 0666, makedev(n.maj, n.min)) == 0) continue;
    // A user namespace may not make device nodes: rootless containers get
    // the host's (as Podman's do). Their owner, real root, is unmapped
    // there, so the container can use them but never chmod or chown them.
    int made = errno == EPERM && rootless() ? open(p.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666) : -1;
    if (made >= 0) close(made);
    if (made < 0 || mount(("/dev/" + std::string(n.name)).c_str(), p.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      umask(old);
      return fail(err, "mknod " + p);
    }
  }
  umask(old);
  if (!makeDevices(dev, c, err)) return false;
  const char* links[][2] = {{"/proc/self/fd", "fd"},         {"/proc/self/fd/0", "stdin"},
                            {"/proc/self/fd/1", "stdout"},   {"/proc/self/fd/2", "stderr"},
                            {"pts/ptmx", "ptmx"},            {"/proc/kcore", "core"}};
  for (const auto& l : links) symlink(l[0], (dev + "/" + l[1]).c_str());
  for (const char* d : {"pts", "shm", "mqueue"}) ensureDir(dev + "/" + d);
  // gid 5 (tty) is unmapped in a rootless namespace without a subordinate range.
  if (mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") != 0 &&
      !(errno == EINVAL && rootless() &&
        doMount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", err)))
    return fail(err, "mount devpts on " + dev + "/pts");
  if (!doMount("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", err))
    return false;
  doMount("mqueue", dev + "/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, err);
  // /dev itself is read-only, and every writable mount is nodev: together they
  // keep a container's CAP_MKNOD from reaching host block devices without
  // needing a device cgroup (which v2 only offers through BPF).
  return doMount(nullptr, dev, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k",
                 err);
}

// Files are masked with the container's own /dev/null (on its /dev tmpfs),
// read-only, never the host's: a chmod of /proc/keys must not reach the
// host's /dev/null. Directories get an empty read-only tmpfs.
bool maskPaths(const std::string& root, std::string* err) {
  std::string null = root + "/dev/null";
  for (const char* m : kMasked) {
    std::string p = root + m;
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (!doMount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555", err)) return false;
    } else if (!doMount(null.c_str(), p, nullptr, MS_BIND, nullptr, err) ||
               !doMount(nullptr, p, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr, err)) {
      return false;
    }
  }
  for (const char* r : kReadonly) {
    std::string p = root + r;
    if (!exists(p)) continue;
    if (!doMount(p.c_str(), p, nullptr, MS_BIND | MS_REC, nullptr, err)) return false;
    if (!doMount(nullptr, p, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
                 err))
      return false;
  }
  return true;
}

}  // namespace

bool setupRootfs(const ContainerConfig& c, int hostPid, std::string* err) {
  // Nothing mounted below may propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(err, "making / private");
  std::string root = c.bundle + "/merged";
  std::string opts = "lowerdir=";
  for (size_t i = 0; i < c.lowers.size(); i++) opts += (i ? ":" : "") + c.lowers[i];
  unsigned long rootFlags = MS_NODEV;
  if (c.readonly) rootFlags |= MS_RDONLY;
  else opts += ",upperdir=" + c.bundle + "/upper,workdir=" + c.bundle + "/work";
  // In a user namespace overlayfs keeps its whiteouts and opaque markers in
  // user.overlay.* xattrs, which is how rootless layers are unpacked.
  if (rootless()) opts += ",userxattr";
  // Lower layers are named relative to the layer directory so that many
  // layers still fit in the one page the kernel accepts for mount options.
  if (chdir(c.layerDir.c_str()) != 0) return fail(err, "entering " + c.layerDir);
  if (c.lowers.size() == 1 && c.readonly) {
    // overlay needs two lowers without an upper; a read-only bind does the same.
    if (!doMount(c.lowers[0].c_str(), root, nullptr, MS_BIND, nullptr, err)) return false;
    if (!doMount(nullptr, root, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV, nullptr, err)) return false;
  } else if (!doMount("overlay", root, "overlay", rootFlags, opts.c_str(), err)) {
    // overlayfs in a user namespace (and its userxattr option) came with Linux 5.11.
    struct utsname u;
    int major = 0, minor = 0;
    if (rootless() && uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 && (major < 5 || (major == 5 && minor < 11))) {
      *err += std::string("; rootless containers need overlayfs in a user namespace, which Linux 5.11 brought, and this kernel is ") +
              u.release + " (fuse-overlayfs is not supported yet): run Berth as root, or on a newer kernel";
    }
    return false;
  }
  ensureDir(root + "/proc");
  if (!doMount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, err)) return false;
  ensureDir(root + "/sys");
  if (mount("sysfs", (root + "/sys").c_str(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    // A rootless container on the host's network may not mount a sysfs of
    // that namespace (it belongs to the host): it sees the host's, read-only.
    if (errno != EPERM || !rootless() || !doMount("/sys", root + "/sys", nullptr, MS_BIND | MS_REC, nullptr, err) ||
        !doMount(nullptr, root + "/sys", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, err))
      return fail(err, "mount sysfs on " + root + "/sys");
  }
  if (!mountCgroupFs(root, c.ownCgroup(), err)) return false;
  if (!setupDev(root, c, err)) return false;
  if (!setupMounts(root, c, err)) return false;
  for (const char* f : {"hostname", "hosts", "resolv.conf"}) {
    std::string src = c.bundle + "/" + f, dst = root + "/etc/" + f;
    if (exists(src) && exists(dst) && !doMount(src.c_str(), dst, nullptr, MS_BIND, nullptr, err)) return false;
  }
  if (!maskPaths(root, err)) return false;
  // Everything is mounted and the host's paths are still reachable.
  if (!runHooks(c, "createContainer", "creating", hostPid, err)) return false;
  // pivot_root(".", ".") stacks the old root under the new one; detaching
  // it leaves only the container's tree (the trick runc uses).
  if (chdir(root.c_str()) != 0) return fail(err, "entering rootfs");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return fail(err, "pivot_root");
  if (umount2(".", MNT_DETACH) != 0) return fail(err, "detaching the old root");
  if (chdir("/") != 0) return fail(err, "chdir /");
  return true;
}

bool loopbackUp(std::string* err) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail(err, "socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  close(s);
  if (!ok) return fail(err, "bringing up lo");
  return true;
}

}  // namespace berth

#include "container-child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "../common/fsutil.h"
#include "../common/netlink.h"
#include "hooks.h"
#include "init.h"
#include "process.h"
#include "rootfs.h"
#include "tty.h"

namespace berth {

// clone3 places the child straight into its v2 cgroup; older kernels and v1
// fall back to clone plus an explicit move before the child goes on.
pid_t cloneContainer(unsigned long flags, int cgroupFd, bool* placed) {
  *placed = false;
#ifdef SYS_clone3
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  if (cgroupFd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroupFd);
  }
  long r = syscall(SYS_clone3, &args, sizeof args);
  if (r >= 0) {
    *placed = cgroupFd >= 0;
    return static_cast<pid_t>(r);
  }
  if (errno != ENOSYS && errno != E2BIG && errno != EINVAL) return -1;
#endif
  (void)cgroupFd;
  return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0));
}


[[noreturn]] void childMain(const ContainerConfig& c, const Pipes& p, int devNull) {
  int errFd = p.errPipe[1];
  char go;
  if (read(p.sync[0], &go, 1) != 1) _exit(125);
  // A private cgroup namespace rooted at the container's own cgroup.
  unshare(CLONE_NEWCGROUP);
  setsid();
  if (!c.tty) {
    // The host's /dev/null only holds fd 0 until the root is the
    // container's; then PID 1 reads the container's own /dev/null.
    dup2(c.openStdin ? p.in[0] : devNull, 0);
    dup2(p.out[1], 1);
    dup2(p.err[1], 2);
  }
  std::string err;
  int hostPid = hostPidOfSelf();  // while /proc is still the host's
  if (c.network == "container") {
    // Join the other container's network namespace, checking it is still
    // the process that was asked for.
    int nsfd = open(("/proc/" + std::to_string(c.netJoinPid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || processStartTime(c.netJoinPid) != c.netJoinStart || setns(nsfd, CLONE_NEWNET) != 0)
      failChild(errFd, 125, "cannot join the network namespace of the other container: is it still running?");
    close(nsfd);
  }
  closeOtherFds({errFd, p.sock[1]});
  if (sethostname(c.hostname.data(), c.hostname.size()) != 0) failChild(errFd, 125, "sethostname failed");
  if (!setupRootfs(c, hostPid, &err)) failChild(errFd, 125, err);
  if (!c.tty && !c.openStdin) {
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nul < 0 || dup2(nul, 0) < 0) failChild(errFd, 125, std::string("opening the container's /dev/null: ") + strerror(errno));
    close(nul);
  }
  if (c.network != "host" && c.network != "container" && !loopbackUp(&err)) failChild(errFd, 125, err);
  for (size_t i = 0; i < c.nets.size(); i++) {
    const auto& n = c.nets[i];
    if (!netlink::addAddress(n.ifname, n.address, &err) || !netlink::setUp(n.ifname, &err) ||
        (i == 0 && !n.gateway.empty() && !netlink::addDefaultRoute(n.gateway, &err)))
      failChild(errFd, 125, err);
  }
  if (c.tty) {
    int master, slave;
    if (!openPty(&master, &slave, &err)) failChild(errFd, 125, err);
    if (!sendFd(p.sock[1], master)) failChild(errFd, 125, "cannot hand the pty to the shim");
    close(master);
    close(p.sock[1]);
    if (!becomeTtyOwner(slave)) failChild(errFd, 125, "cannot attach the pty");
  }
  if (!runHooks(c, "startContainer", "created", hostPid, &err)) failChild(errFd, 125, err);
  ProcessSpec spec;
  spec.args = c.args;
  spec.env = c.env;
  spec.cwd = c.cwd;
  spec.user = c.user;
  spec.rlimits = c.rlimits;
  spec.init = c.init;
  spec.tty = c.tty;
  spec.extraGroups = c.additionalGids;
  becomeContainerProcess(spec, errFd);
}

}  // namespace berth

#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "../common/cgroup.h"
#include "../common/fsutil.h"
#include "../common/netlink.h"
#include "config.h"
#include "container-child.h"
#include "hooks.h"
#include "init.h"
#include "logfile.h"
#include "proxy.h"
#include "rootless.h"
#include "process.h"
#include "rootfs.h"
#include "state.h"
#include "status.h"
#include "tty.h"

namespace berth {

namespace {



void closeFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}


void cleanup(const ContainerConfig& c) {
  if (c.ownCgroup()) cgroup::remove(c.cgroupParent, c.id);
  if (c.autoRemove) {
    for (const auto& f : c.releaseFiles) unlink(f.c_str());
    for (const auto& d : c.releaseDirs) removeTree(d);
    removeTree(c.bundle);
  }
}

}  // namespace

int runContainer(const char* configPath) {
  signal(SIGPIPE, SIG_IGN);
  // The shim supervises the container for its whole life, apart from
  // whoever started it. A job manager that signals every process of a job
  // (Slurm's proctrack/linuxproc on scancel or at a time limit) or a hang-up
  // must not take the supervisor away and leave the container unwatched:
  // the Berth that started it stops the container instead. The engine never
  // signals the shim, and the container's processes and hooks get default
  // dispositions back before they exec (process.cc, hooks.cc).
  for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2}) signal(s, SIG_IGN);
  StatusPipe status;
  ContainerConfig c;
  std::string err;
  if (!loadConfig(configPath, &c, &err)) {
    status.error(125, err);
    return 125;
  }
  // Whatever this process forks into the container's PID namespace is this
  // host binary until it execs (and --init's reaper stays it): undumpable,
  // its /proc/PID/exe, fd, root and mem are closed to the container's root,
  // who lacks CAP_SYS_PTRACE (CVE-2019-5736). execve makes the container's
  // own program dumpable again.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    status.error(125, std::string("prctl: ") + strerror(errno));
    return 125;
  }
  RunState st;
  st.shimPid = getpid();
  // Root containers get the device cgroup always, as docker's do; a user
  // namespace can make no device node at all, and v2 lets only root load
  // the program.
  c.limits.restrictDevices = !rootless();
  if (c.ownCgroup() && !cgroup::create(c.cgroupParent, c.id, c.limits, &err)) {
    status.error(125, err);
    cleanup(c);  // a --rm container that never ran leaves nothing behind
    return 125;
  }
  // Published ports are bound before the container starts, so a taken port
  // fails the run instead of a running container being unreachable.
  PortProxy proxy;
  if (!c.publish.empty()) {
    std::vector<Publish> ports;
    for (const auto& spec : c.publish) {
      // HOSTIP:HOSTPORT:CONTAINERPORT[/udp]
      auto f = split(spec, ':');
      if (f.size() != 3) continue;
      ports.push_back({f[0], atoi(f[1].c_str()), atoi(f[2].c_str()), f[2].find("/udp") != std::string::npos});
    }
    std::string ip = c.nets.empty() ? "127.0.0.1" : c.nets[0].address.substr(0, c.nets[0].address.find('/'));
    if (!proxy.listen(ports, ip, &err)) {
      status.error(125, err);
      cleanup(c);
      return 125;
    }
    st.portsJson = proxy.describeJson();
  }
  Pipes p;
  bool ok = pipe2(p.sync, O_CLOEXEC) == 0 && pipe2(p.errPipe, O_CLOEXEC) == 0;
  if (c.tty) ok = ok && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p.sock) == 0;
  else ok = ok && pipe2(p.out, O_CLOEXEC) == 0 && pipe2(p.err, O_CLOEXEC) == 0 &&
            (!c.openStdin || pipe2(p.in, O_CLOEXEC) == 0);
  int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (!ok || devNull < 0) {
    status.error(125, std::string("cannot create pipes: ") + strerror(errno));
    cleanup(c);
    return 125;
  }
  sigset_t chld, oldMask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &oldMask);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  if (c.network != "host" && c.network != "container") flags |= CLONE_NEWNET;
  std::string v2 = c.ownCgroup() ? cgroup::unifiedPath(c.cgroupParent, c.id) : "";
  int cgFd = v2.empty() ? -1 : open(v2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool placed = false;
  pid_t child = cloneContainer(flags, cgFd, &placed);
  if (child == 0) childMain(c, p, devNull);
  if (cgFd >= 0) close(cgFd);
  if (child < 0) {
    status.error(125, std::string("cannot create the container's namespaces: ") + strerror(errno));
    cleanup(c);
    return 125;
  }
  closeFd(&p.sync[0]);
  closeFd(&p.errPipe[1]);
  closeFd(&p.sock[1]);
  closeFd(&p.in[0]);
  closeFd(&p.out[1]);
  closeFd(&p.err[1]);
  if (!placed && c.ownCgroup() && !cgroup::attach(c.cgroupParent, c.id, child, &err)) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    status.error(125, err);
    cleanup(c);
    return 125;
  }
  // Rootless bridges live in the network namespace the pause process holds
  // (see rootless.h), never in the host's; the shim makes them there. The
  // published ports above stay bound in the host's namespace, and the
  // proxy's connections to the container start from this one.
  if (rootless() && !c.nets.empty() && !joinRootlessBridges(c.nets, &err)) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    status.error(125, err);
    cleanup(c);
    return 125;
  }
  for (const auto& n : c.nets) {
    // The host end joins the bridge; the peer is born inside the container's
    // namespace as eth0, eth1..., where the child gives it an address. The
    // pair dies with the namespace.
    if (!netlink::createVeth(n.veth, n.ifname, child, n.mac, &err) || !netlink::setMaster(n.veth, n.bridge, &err) ||
        !netlink::setUp(n.veth, &err)) {
      std::string ignored;
      for (const auto& m : c.nets) netlink::deleteLink(m.veth, &ignored);
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      status.error(125, err);
      cleanup(c);
      return 125;
    }
  }
  if (!runHooks(c, "createRuntime", "creating", child, &err)) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    status.error(125, err);
    cleanup(c);
    return 125;
  }
  char go = 'g';
  ssize_t wr = write(p.sync[1], &go, 1);
  (void)wr;
  closeFd(&p.sync[1]);

  int master = c.tty ? receiveFd(p.sock[0]) : -1;
  closeFd(&p.sock[0]);
  // The error pipe closes on a successful execve and carries "CODE message" otherwise.
  std::string failure;
  char buf[32768];
  for (;;) {
    ssize_t n = read(p.errPipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    failure.append(buf, static_cast<size_t>(n));
  }
  closeFd(&p.errPipe[0]);
  if (!failure.empty()) {
    int wst;
    waitpid(child, &wst, 0);
    int code = atoi(failure.c_str());
    std::string msg = failure.substr(failure.find(' ') + 1);
    // As docker does, a container whose process never started stays "created".
    st.status = "created";
    st.exitCode = code;
    st.error = msg;
    writeState(c.bundle, st);
    status.error(code, msg);
    cleanup(c);
    return code;
  }
  st.status = "running";
  st.pid = child;
  st.pidStart = processStartTime(child);
  st.startedAt = isoTimeNow();
  writeState(c.bundle, st);
  status.started(child);
  // A failed poststart hook is a warning: the container runs on.
  if (!runHooks(c, "poststart", "running", child, &err) && status.pollFd() >= 0) dprintf(2, "warning: %s\n", err.c_str());

  LogFile log;
  log.open(c.bundle + "/" + c.id + "-json.log");
  RawTerminal raw;
  bool attached = status.pollFd() >= 0;
  if (c.tty && master >= 0) {
    copyWindowSize(attached && c.openStdin ? 0 : -1, master);
    if (attached && c.openStdin) raw.enter(0);
  }
  int outFd = c.tty ? master : p.out[0];
  int errFd = c.tty ? -1 : p.err[0];
  int inFd = c.tty ? (c.openStdin ? master : -1) : p.in[1];
  bool clientIn = attached && c.openStdin;
  bool exited = false;
  int exitStatus = 0;
  int64_t exitedAt = 0;
  auto detach = [&]() {
    if (!attached) return;
    attached = false;
    raw.restore();
    clientIn = false;
    dup2(devNull, 0);
    dup2(devNull, 1);
    dup2(devNull, 2);
  };
  while (outFd >= 0 || errFd >= 0 || !exited) {
    // After the container's init is gone the kernel kills the rest of its
    // PID namespace, so the output pipes close soon; don't wait forever.
    if (exited && monotonicMs() - exitedAt > 3000) break;
    std::vector<pollfd> fds;
    int iOut = -1, iErr = -1, iIn = -1, iStatus = -1, iSig;
    if (outFd >= 0) { iOut = static_cast<int>(fds.size()); fds.push_back({outFd, POLLIN, 0}); }
    if (errFd >= 0) { iErr = static_cast<int>(fds.size()); fds.push_back({errFd, POLLIN, 0}); }
    if (clientIn && inFd >= 0) { iIn = static_cast<int>(fds.size()); fds.push_back({0, POLLIN, 0}); }
    if (attached && status.pollFd() >= 0) { iStatus = static_cast<int>(fds.size()); fds.push_back({status.pollFd(), 0, 0}); }
    iSig = static_cast<int>(fds.size());
    fds.push_back({sfd, POLLIN, 0});
    size_t proxyBase = fds.size();
    if (!exited) proxy.addPollFds(&fds);
    int r = poll(fds.data(), fds.size(), exited ? 100 : -1);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (fds.size() > proxyBase) proxy.handle(&fds[proxyBase], fds.size() - proxyBase);
    if (fds[iSig].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      int ws;
      if (!exited && waitpid(child, &ws, WNOHANG) == child) {
        exited = true;
        exitedAt = monotonicMs();
        exitStatus = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
      }
    }
    for (int which : {iOut, iErr}) {
      if (which < 0 || !fds[which].revents) continue;
      int* fd = which == iOut ? &outFd : &errFd;
      ssize_t n = read(*fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {  // EOF, or EIO from a pty whose last slave closed
        if (*fd == inFd) inFd = -1;
        closeFd(fd);
        continue;
      }
      const char* stream = which == iErr ? "stderr" : "stdout";
      log.write(stream, buf, static_cast<size_t>(n));
      if (attached && !writeAll(which == iErr ? 2 : 1, buf, static_cast<size_t>(n))) detach();
    }
    if (iIn >= 0 && fds[iIn].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0 && inFd >= 0) {
        writeAll(inFd, buf, static_cast<size_t>(n));
      } else if (n == 0 || (n < 0 && errno != EINTR)) {
        clientIn = false;
        if (!c.tty) closeFd(&p.in[1]), inFd = -1;  // EOF reaches the container's stdin
      }
    }
    if (iStatus >= 0 && (fds[iStatus].revents & (POLLERR | POLLHUP))) {
      status.lost();
      detach();
    }
  }
  if (!exited) {
    int ws;
    waitpid(child, &ws, 0);
    exitStatus = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  }
  detach();  // output is over: the client sees EOF now, not after the clean-up
  raw.restore();
  proxy.closeAll();  // the published ports close with the container
  cgroup::Stats cs;
  if (c.ownCgroup()) cgroup::read(c.cgroupParent, c.id, &cs);
  st.status = "exited";
  st.exitCode = exitStatus;
  st.oomKilled = cs.oomKills > 0;
  st.finishedAt = isoTimeNow();
  st.peakMemory = cs.memoryPeak;
  st.cpuNs = cs.cpuUsageNs;
  if (!c.autoRemove) writeState(c.bundle, st);
  runHooks(c, "poststop", "stopped", child, &err);  // after the end nothing is left to stop
  cleanup(c);
  status.exited(exitStatus, st.oomKilled, cs.memoryPeak, cs.cpuUsageNs);
  return 0;
}

}  // namespace berth

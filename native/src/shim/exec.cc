#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "../common/cgroup.h"
#include "../common/fsutil.h"
#include "../common/netlink.h"
#include "config.h"
#include "init.h"
#include "process.h"
#include "rootless.h"
#include "status.h"
#include "tty.h"

namespace berth {

namespace {

StatusPipe& status() {
  static StatusPipe pipe;
  return pipe;
}

int fail(int code, const std::string& msg) {
  status().error(code, msg);
  return code;
}

// Copies the client's terminal to the pty and back until the process ends.
void relayTty(int master) {
  RawTerminal raw;
  raw.enter(0);
  char buf[16384];
  bool inOpen = true;
  for (;;) {
    struct pollfd fds[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    int r = poll(fds, inOpen ? 2 : 1, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    if (fds[0].revents) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;
      if (write(1, buf, static_cast<size_t>(n)) < 0) {}
    }
    if (inOpen && fds[1].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) inOpen = false;
      else if (write(master, buf, static_cast<size_t>(n)) < 0) {}
    }
  }
}



// Relays the caller's stdin and the process's stdout/stderr through pipes
// the shim owns, so no fd of the caller's (a terminal, a file) ever enters
// the container. Returns the process's wait status. Once it has exited,
// output that background children still hold is drained for a second at most.
int relayPipes(pid_t child, int sfd, int inFd, int outFd, int errFd) {
  char buf[32768];
  bool exited = false;
  int status = 0;
  int64_t exitedAt = 0;
  bool outOk = true, errOk = true;  // false once the caller stops reading
  while (outFd >= 0 || errFd >= 0 || !exited) {
    if (exited && monotonicMs() - exitedAt > 1000) break;
    struct pollfd fds[4];
    int n = 0, iOut = -1, iErr = -1, iIn = -1;
    if (outFd >= 0) iOut = n, fds[n++] = {outFd, POLLIN, 0};
    if (errFd >= 0) iErr = n, fds[n++] = {errFd, POLLIN, 0};
    if (inFd >= 0) iIn = n, fds[n++] = {0, POLLIN, 0};
    int iSig = n;
    fds[n++] = {sfd, POLLIN, 0};
    int r = poll(fds, n, exited ? 100 : -1);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    if (fds[iSig].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      if (!exited && waitpid(child, &status, WNOHANG) == child) exited = true, exitedAt = monotonicMs();
    }
    for (int which : {iOut, iErr}) {
      if (which < 0 || !fds[which].revents) continue;
      int* fd = which == iOut ? &outFd : &errFd;
      bool* ok = which == iOut ? &outOk : &errOk;
      ssize_t k = read(*fd, buf, sizeof buf);
      if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (k <= 0) {
        close(*fd);
        *fd = -1;
        continue;
      }
      if (*ok) *ok = writeAll(which == iOut ? 1 : 2, buf, static_cast<size_t>(k));
    }
    if (iIn >= 0 && fds[iIn].revents) {
      ssize_t k = read(0, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0 || !writeAll(inFd, buf, static_cast<size_t>(k))) {
        close(inFd);  // EOF reaches the process's stdin
        inFd = -1;
      }
    }
  }
  if (!exited) while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return status;
}

}  // namespace

int execInContainer(const char* configPath) {
  signal(SIGPIPE, SIG_IGN);
  ContainerConfig c;
  std::string err;
  if (!loadConfig(configPath, &c, &err)) return fail(125, err);
  unlink(configPath);
  // Until it execs the container's program, the process exec starts is this
  // host binary inside the container's PID namespace. Undumpable, its
  // /proc/PID/exe, fd, root and mem are closed to the container's root
  // (who lacks CAP_SYS_PTRACE): no handle on a host executable (CVE-2019-5736).
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return fail(125, std::string("prctl: ") + strerror(errno));
  if (c.targetPid <= 0 || processStartTime(c.targetPid) != c.targetStart)
    return fail(125, "container " + c.id.substr(0, 12) + " is not running");
  const char* kinds[] = {"ipc", "uts", "net", "pid", "cgroup", "mnt"};
  int nsFds[6];
  for (int i = 0; i < 6; i++) {
    std::string p = "/proc/" + std::to_string(c.targetPid) + "/ns/" + kinds[i];
    nsFds[i] = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsFds[i] < 0) return fail(125, "container " + c.id.substr(0, 12) + " is not running");
  }
  // Join the cgroup first so that limits apply to everything exec starts.
  if (c.ownCgroup() && !cgroup::attach(c.cgroupParent, c.id, getpid(), &err)) return fail(125, err);
  for (int i = 0; i < 6; i++) {
    if (setns(nsFds[i], 0) != 0 && !(i == 4 && errno == EINVAL))
      return fail(125, std::string("joining the ") + kinds[i] + " namespace: " + strerror(errno));
    close(nsFds[i]);
  }
  int master = -1, slave = -1;
  if (c.tty && !openPty(&master, &slave, &err)) return fail(125, err);
  if (master >= 0) copyWindowSize(0, master);
  int errPipe[2];
  if (pipe2(errPipe, O_CLOEXEC) != 0) return fail(125, "pipe failed");
  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
  if (!c.tty && (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 || (c.openStdin && pipe2(in, O_CLOEXEC) != 0)))
    return fail(125, std::string("pipe: ") + strerror(errno));
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return fail(125, std::string("signalfd: ") + strerror(errno));
  // A new PID namespace applies to children only: fork to be inside it.
  pid_t child = fork();
  if (child < 0) return fail(125, std::string("fork: ") + strerror(errno));
  if (child == 0) {
    close(errPipe[0]);
    setsid();
    if (c.tty) {
      close(master);
      becomeTtyOwner(slave);
    } else {
      // The container's own /dev/null: this process is in its mount namespace.
      int nul = c.openStdin ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (nul < 0 || dup2(nul, 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)
        failChild(errPipe[1], 125, std::string("setting up stdio: ") + strerror(errno));
    }
    closeOtherFds({errPipe[1]});
    ProcessSpec spec;
    spec.args = c.args;
    spec.env = c.env;
    spec.cwd = c.cwd;
    spec.user = c.user;
    spec.createCwd = false;
    becomeContainerProcess(spec, errPipe[1]);
  }
  close(errPipe[1]);
  if (slave >= 0) close(slave);
  for (int* fd : {&in[0], &out[1], &errp[1]})
    if (*fd >= 0) close(*fd), *fd = -1;
  std::string failure;
  char buf[4096];
  for (;;) {
    ssize_t n = read(errPipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    failure.append(buf, static_cast<size_t>(n));
  }
  close(errPipe[0]);
  if (!failure.empty()) {
    waitpid(child, nullptr, 0);
    int code = atoi(failure.c_str());
    return fail(code, failure.substr(failure.find(' ') + 1));
  }
  status().started(child);
  int ws = 0;
  if (master >= 0) {
    relayTty(master);
    while (waitpid(child, &ws, 0) < 0 && errno == EINTR) {}
  } else {
    ws = relayPipes(child, sfd, in[1], out[0], errp[0]);
  }
  int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  // An exec has no cgroup of its own: its peak memory and CPU time are not measured.
  status().exited(code, false, -1, -1);
  return code;
}

}  // namespace berth

namespace berth {

int attachNetwork(const char* configPath) {
  ContainerConfig c;
  std::string err;
  if (!loadConfig(configPath, &c, &err) && c.nets.empty()) {
    fprintf(stderr, "%s\n", err.c_str());
    return 125;
  }
  if (c.nets.size() != 1 || c.targetPid <= 0 || processStartTime(c.targetPid) != c.targetStart) {
    fprintf(stderr, "the container is not running\n");
    return 125;
  }
  const auto& n = c.nets[0];
  if (rootless() && !joinRootlessBridges(c.nets, &err)) {
    fprintf(stderr, "%s\n", err.c_str());
    return 125;
  }
  int nsfd = open(("/proc/" + std::to_string(c.targetPid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || !netlink::createVeth(n.veth, n.ifname, c.targetPid, n.mac, &err) || !netlink::setMaster(n.veth, n.bridge, &err) ||
      !netlink::setUp(n.veth, &err)) {
    std::string ignored;
    netlink::deleteLink(n.veth, &ignored);
    fprintf(stderr, "%s\n", err.empty() ? "cannot open the container's network namespace" : err.c_str());
    return 125;
  }
  // This process is single-threaded: setns moves all of it.
  if (setns(nsfd, CLONE_NEWNET) != 0 || !netlink::addAddress(n.ifname, n.address, &err) || !netlink::setUp(n.ifname, &err)) {
    fprintf(stderr, "%s\n", err.empty() ? strerror(errno) : err.c_str());
    return 125;
  }
  return 0;
}

}  // namespace berth

#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "../common/cgroup.h"
#include "../common/fsutil.h"
#include "../common/netlink.h"
#include "config.h"
#include "init.h"
#include "process.h"
#include "tty.h"

namespace berth {

namespace {

void report(const std::string& line) {
  std::string l = line + "\n";
  ssize_t n = write(3, l.data(), l.size());
  (void)n;
}

int fail(int code, const std::string& msg) {
  report("error " + std::to_string(code) + " " + msg);
  return code;
}

// Copies the client's terminal to the pty and back until the process ends.
void relayTty(int master, pid_t child) {
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
  (void)child;
}

}  // namespace

int execInContainer(const char* configPath) {
  signal(SIGPIPE, SIG_IGN);
  ContainerConfig c;
  std::string err;
  if (!loadConfig(configPath, &c, &err)) return fail(125, err);
  unlink(configPath);
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
  if (!cgroup::attach(c.cgroupParent, c.id, getpid(), &err)) return fail(125, err);
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
  // A new PID namespace applies to children only: fork to be inside it.
  pid_t child = fork();
  if (child < 0) return fail(125, std::string("fork: ") + strerror(errno));
  if (child == 0) {
    close(errPipe[0]);
    setsid();
    if (c.tty) {
      close(master);
      becomeTtyOwner(slave);
    } else if (!c.openStdin) {
      int nul = open("/dev/null", O_RDONLY);
      if (nul >= 0) dup2(nul, 0), close(nul);
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
  report("started " + std::to_string(child));
  if (master >= 0) relayTty(master, child);
  int ws;
  while (waitpid(child, &ws, 0) < 0 && errno == EINTR) {}
  int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  report("exited " + std::to_string(code) + " 0 0 0");
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
  int nsfd = open(("/proc/" + std::to_string(c.targetPid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || !netlink::createVeth(n.veth, n.ifname, c.targetPid, &err) || !netlink::setMaster(n.veth, n.bridge, &err) ||
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

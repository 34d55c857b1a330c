#include "rootless.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "../common/fsutil.h"
#include "../common/netlink.h"
#include "process.h"
#include "rootfs.h"

namespace berth {

namespace {

struct IdRange {
  unsigned long start = 0, count = 0;
};

int complain(const std::string& msg) {
  fprintf(stderr, "berth: %s\n", msg.c_str());
  return 125;
}

std::string userName(uid_t uid) {
  // The shim is linked statically, where getpwuid would need NSS: read the file.
  std::string passwd;
  if (!readFile("/etc/passwd", &passwd)) return "";
  for (const auto& line : splitLines(passwd)) {
    auto f = split(line, ':');
    if (f.size() > 2 && f[2] == std::to_string(uid)) return f[0];
  }
  return "";
}

// The first range of /etc/subuid (or subgid) given to this user, by name or by id.
IdRange subordinateRange(const char* file, const std::string& name, unsigned long id) {
  std::string text;
  IdRange r;
  if (!readFile(file, &text)) return r;
  for (const auto& line : splitLines(text)) {
    auto f = split(trim(line), ':');
    if (f.size() != 3 || (f[0] != name && f[0] != std::to_string(id))) continue;
    r.start = strtoul(f[1].c_str(), nullptr, 10);
    r.count = strtoul(f[2].c_str(), nullptr, 10);
    if (r.count > 0) return r;
  }
  return IdRange{};
}

bool haveProgram(const char* path) { return access(path, X_OK) == 0; }

// The run directory: BERTH_RUN, else $XDG_RUNTIME_DIR/berth, else a private
// directory under /tmp. Whatever it is must be the user's and closed to
// others, or the pause process's record in it could be forged.
bool runDirectory(uid_t uid, std::string* dir, std::string* err) {
  const char* env = getenv("BERTH_RUN");
  const char* xdg = getenv("XDG_RUNTIME_DIR");
  if (env && *env) *dir = env;
  else if (xdg && *xdg) *dir = std::string(xdg) + "/berth";
  else *dir = "/tmp/berth-run-" + std::to_string(uid);
  if (!mkdirAll(*dir, 0700) && errno != EEXIST) {
    *err = "cannot create the run directory " + *dir + ": " + strerror(errno) + "; set BERTH_RUN to a directory of your own";
    return false;
  }
  struct stat st;
  if (lstat(dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid) {
    *err = "the run directory " + *dir + " is not a directory of yours; set BERTH_RUN to a directory of your own";
    return false;
  }
  if ((st.st_mode & 077) && chmod(dir->c_str(), 0700) != 0) {
    *err = "the run directory " + *dir + " is open to other users and cannot be closed: " + strerror(errno);
    return false;
  }
  return true;
}

std::string nsLink(const std::string& pid, const char* ns) {
  char buf[64];
  ssize_t n = readlink(("/proc/" + pid + "/ns/" + ns).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The recorded pause process, if it is still the one that was recorded.
pid_t recordedPause(const std::string& runDir) {
  std::string rec;
  if (!readFile(runDir + "/pause.pid", &rec)) return 0;
  auto w = words(trim(rec));
  if (w.size() != 2) return 0;
  pid_t pid = atoi(w[0].c_str());
  if (pid <= 0 || std::to_string(processStartTime(pid)) != w[1]) return 0;
  return pid;
}

int countOthersInNamespace(const std::string& mine) {
  int n = 0;
  DIR* d = opendir("/proc");
  if (!d) return 1;
  std::string self = std::to_string(getpid());
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || self == e->d_name) continue;
    if (nsLink(e->d_name, "user") == mine) n++;
  }
  closedir(d);
  return n;
}

// The pause process: it keeps the user namespace and the rootless network
// namespace alive while anything of Berth's runs in them, and goes away
// once it has been alone for a while (so a user who stops using Berth has
// nothing of it left running). The launcher's lock keeps it from leaving
// while a launcher is joining.
[[noreturn]] void pauseLoop(const std::string& runDir, int lingerSeconds) {
  std::string mine = nsLink("self", "user");
  int aloneFor = 0;
  const int step = lingerSeconds < 2 ? 1 : 2;
  for (;;) {
    sleep(static_cast<unsigned>(step));
    if (countOthersInNamespace(mine) > 0) {
      aloneFor = 0;
      continue;
    }
    aloneFor += step;
    if (aloneFor < lingerSeconds) continue;
    int lock = open((runDir + "/pause.lock").c_str(), O_RDWR | O_CLOEXEC);
    if (lock < 0 && errno == ENOENT) _exit(0);  // the run directory is gone: nobody can join any more
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
      if (lock >= 0) close(lock);
      continue;
    }
    if (countOthersInNamespace(mine) > 0) {
      close(lock);
      aloneFor = 0;
      continue;
    }
    std::string rec, outbound;
    if (readFile(runDir + "/pause.pid", &rec) && atoi(rec.c_str()) == getpid()) unlink((runDir + "/pause.pid").c_str());
    if (readFile(runDir + "/outbound.pid", &outbound) && atoi(outbound.c_str()) > 0) {
      kill(atoi(outbound.c_str()), SIGTERM);
      unlink((runDir + "/outbound.pid").c_str());
    }
    _exit(0);
  }
}

bool readByte(int fd, char* c) {
  for (;;) {
    ssize_t n = read(fd, c, 1);
    if (n < 0 && errno == EINTR) continue;
    return n == 1;
  }
}

bool runProgram(const std::vector<std::string>& args, std::string* err, bool quiet = false) {
  pid_t p = fork();
  if (p == 0) {
    if (quiet) {
      int nul = open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; fd++) dup2(nul, fd);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    *err = args[0] + " failed";
    return false;
  }
  return true;
}

// Writes the id maps of the new namespace of pid: the user's range through
// newuidmap/newgidmap, or the user alone (which needs no helper, but then
// setgroups must be denied in it).
bool mapIds(pid_t pid, uid_t uid, gid_t gid, const IdRange& su, const IdRange& sg, bool helpers, std::string* err) {
  std::string p = std::to_string(pid);
  if (helpers) {
    return runProgram({"/usr/bin/newuidmap", p, "0", std::to_string(uid), "1", "1", std::to_string(su.start),
                       std::to_string(su.count)}, err) &&
           runProgram({"/usr/bin/newgidmap", p, "0", std::to_string(gid), "1", "1", std::to_string(sg.start),
                       std::to_string(sg.count)}, err);
  }
  int e = 0;
  if (!writeFile("/proc/" + p + "/uid_map", "0 " + std::to_string(uid) + " 1\n", &e) ||
      !writeFile("/proc/" + p + "/setgroups", "deny", &e) ||
      !writeFile("/proc/" + p + "/gid_map", "0 " + std::to_string(gid) + " 1\n", &e)) {
    *err = std::string("cannot write the user namespace's id map: ") + strerror(e);
    return false;
  }
  return true;
}

// Makes the pause process (detached: its parent exits at once) and returns its pid.
pid_t startPause(const std::string& runDir, uid_t uid, gid_t gid, bool* squashed, std::string* err) {
  std::string name = userName(uid);
  IdRange su = subordinateRange("/etc/subuid", name, uid), sg = subordinateRange("/etc/subgid", name, gid);
  bool helpers = su.count > 0 && sg.count > 0 && haveProgram("/usr/bin/newuidmap") && haveProgram("/usr/bin/newgidmap");
  *squashed = !helpers;
  const char* lingerEnv = getenv("BERTH_PAUSE_LINGER");
  int linger = lingerEnv ? atoi(lingerEnv) : 60;
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) != 0 || pipe2(down, O_CLOEXEC) != 0) {
    *err = std::string("pipe: ") + strerror(errno);
    return 0;
  }
  pid_t mid = fork();
  if (mid < 0) {
    *err = std::string("fork: ") + strerror(errno);
    return 0;
  }
  if (mid == 0) {
    setsid();
    pid_t p = fork();
    if (p != 0) _exit(p < 0 ? 1 : 0);
    // Nothing of the launcher's stays open here: above all not its lock on
    // pause.lock, which would then outlive the launcher.
    closeOtherFds({up[1], down[0]});
    char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'U';
    pid_t self = getpid();
    if (write(up[1], &c, 1) != 1 || c == 'U' || write(up[1], &self, sizeof self) != sizeof self ||
        !readByte(down[0], &c) || c != 'g')
      _exit(1);
    std::string ignored;
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0 || unshare(CLONE_NEWNET) != 0 || !loopbackUp(&ignored)) c = 'N';
    else c = 'r';
    if (write(up[1], &c, 1) != 1 || c != 'r') _exit(1);
    close(up[1]);
    close(down[0]);
    prctl(PR_SET_NAME, "berth-pause", 0, 0, 0);
    if (chdir("/") != 0) {}
    int nul = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(nul, fd);
    if (nul > 2) close(nul);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    pauseLoop(runDir, linger);
  }
  close(up[1]);
  close(down[0]);
  waitpid(mid, nullptr, 0);
  // The grandchild says who it is: 'u' and its pid, once its namespace exists.
  char c = 0;
  pid_t pause = 0;
  bool ok = readByte(up[0], &c) && c == 'u' && read(up[0], &pause, sizeof pause) == sizeof pause;
  if (!ok || pause <= 0) {
    *err = c == 'U' ? std::string("this kernel does not let users create user namespaces (see sysctl kernel.unprivileged_userns_clone "
                                  "and user.max_user_namespaces); an administrator can enable them")
                    : "cannot start the rootless namespace process";
    close(up[0]);
    close(down[1]);
    return 0;
  }
  if (!mapIds(pause, uid, gid, su, sg, helpers, err)) {
    kill(pause, SIGKILL);
    close(up[0]);
    close(down[1]);
    return 0;
  }
  c = 'g';
  ok = write(down[1], &c, 1) == 1 && readByte(up[0], &c) && c == 'r';
  close(up[0]);
  close(down[1]);
  if (!ok) {
    kill(pause, SIGKILL);
    *err = "cannot set up the rootless namespaces";
    return 0;
  }
  writeFileAtomic(runDir + "/pause.pid", std::to_string(pause) + " " + std::to_string(processStartTime(pause)) + "\n");
  return pause;
}

// Outbound connectivity for the rootless network namespace: slirp4netns
// (10.0.2.0/24, the namespace's tap0), else pasta, both as Podman runs them:
// connections leave as the user's own, and the host's loopback stays out
// of reach (as it is from root's bridges), so a container cannot talk to a
// service the user keeps on 127.0.0.1, such as this very Jupyter server.
// Best effort: without /dev/net/tun open to users, containers still reach
// each other and published ports still work.
void startOutbound(const std::string& runDir, pid_t pause) {
  std::string p = std::to_string(pause), ignored;
  std::string pidFile = runDir + "/outbound.pid";
  if (haveProgram("/usr/bin/slirp4netns")) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return;
    pid_t child = fork();
    if (child == 0) {
      setsid();
      int nul = open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; fd++) dup2(nul, fd);
      closeOtherFds({ready[1]});
      int fd = fcntl(ready[1], F_DUPFD, 3);  // without O_CLOEXEC: slirp4netns writes it when ready
      std::string readyArg = "--ready-fd=" + std::to_string(fd);
      std::string userns = "--userns-path=/proc/" + p + "/ns/user";
      std::string netns = "/proc/" + p + "/ns/net";
      execl("/usr/bin/slirp4netns", "slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", readyArg.c_str(),
            "--netns-type=path", userns.c_str(), netns.c_str(), "tap0", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(ready[1]);
    char c;
    bool up = child > 0 && readByte(ready[0], &c);
    close(ready[0]);
    if (up) {
      writeFileAtomic(pidFile, std::to_string(child) + "\n");
      return;
    }
    if (child > 0) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
    }
  }
  if (haveProgram("/usr/bin/pasta"))
    runProgram({"/usr/bin/pasta", "--config-net", "--quiet", "--no-map-gw", "--pid", pidFile, "-t", "none", "-u", "none", "-T", "none",
                "-U", "none", "--userns", "/proc/" + p + "/ns/user", "--netns", "/proc/" + p + "/ns/net"},
               &ignored, true);
}

}  // namespace

bool rootless() {
  const char* v = getenv("BERTH_ROOTLESS");
  return v && *v;
}

int enterAndExec(int argc, char** argv) {
  if (argc < 1) return complain("usage: berth-shim enter PROGRAM [ARGS...]");
  auto run = [&]() {
    execvp(argv[0], argv);
    return complain(std::string("cannot run ") + argv[0] + ": " + strerror(errno));
  };
  if (geteuid() == 0 || rootless()) return run();
  uid_t uid = getuid();
  gid_t gid = getgid();
  std::string runDir, err;
  if (!runDirectory(uid, &runDir, &err)) return complain(err);
  int lock = open((runDir + "/pause.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) return complain("cannot lock " + runDir + "/pause.lock: " + strerror(errno));
  pid_t pause = 0;
  bool squashed = false, joined = false;
  for (int attempt = 0; attempt < 3 && !joined; attempt++) {
    pause = recordedPause(runDir);
    if (!pause) {
      pause = startPause(runDir, uid, gid, &squashed, &err);
      if (!pause) return complain(err);
      startOutbound(runDir, pause);
    }
    int fd = open(("/proc/" + std::to_string(pause) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    joined = fd >= 0 && setns(fd, CLONE_NEWUSER) == 0;
    if (fd >= 0) close(fd);
    if (!joined) unlink((runDir + "/pause.pid").c_str());
  }
  close(lock);
  if (!joined) return complain(std::string("cannot join the rootless user namespace: ") + strerror(errno));
  // Whether only the user is mapped, from the map itself (the pause may be older than this call).
  std::string map;
  readFile("/proc/self/uid_map", &map);
  squashed = splitLines(trim(map)).size() < 2;
  setenv("BERTH_ROOTLESS", std::to_string(uid).c_str(), 1);
  setenv("BERTH_PAUSE_PID", std::to_string(pause).c_str(), 1);
  setenv("BERTH_RUN", runDir.c_str(), 1);
  if (squashed) setenv("BERTH_ROOTLESS_SQUASHED", "1", 1);
  else unsetenv("BERTH_ROOTLESS_SQUASHED");
  return run();
}

bool joinRootlessNetns(std::string* err) {
  const char* pid = getenv("BERTH_PAUSE_PID");
  if (!pid || !*pid) {
    *err = "the rootless network namespace is unknown (BERTH_PAUSE_PID is not set)";
    return false;
  }
  // The pid must still be the pause of this very user namespace.
  if (nsLink(pid, "user") != nsLink("self", "user")) {
    *err = "the rootless namespace process has gone; run the command again";
    return false;
  }
  int fd = open((std::string("/proc/") + pid + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
  if (!ok) *err = std::string("cannot enter the rootless network namespace: ") + strerror(errno);
  if (fd >= 0) close(fd);
  return ok;
}

bool joinRootlessBridges(const std::vector<ContainerConfig::Net>& nets, std::string* err) {
  if (!joinRootlessNetns(err)) return false;
  for (const auto& n : nets) {
    bool fresh = !netlink::linkExists(n.bridge);
    if (!netlink::ensureBridge(n.bridge, n.bridgeCidr, err)) return false;
    // Outbound traffic of a network with a gateway leaves through the
    // namespace's own link to the host (slirp4netns's or pasta's tap) under that link's
    // address, as root's bridges leave through the host's. Best effort, as
    // for root: without iptables, containers still reach each other.
    if (fresh && !n.gateway.empty()) {
      std::string ignored;
      writeFile("/proc/sys/net/ipv4/ip_forward", "1");
      runProgram({"/usr/sbin/iptables", "-t", "nat", "-A", "POSTROUTING", "-s", n.bridgeCidr, "!", "-o", n.bridge, "-j", "MASQUERADE"},
                 &ignored, true);
    }
  }
  return true;
}

int deleteRootlessLinks(int argc, char** argv) {
  std::string err;
  if (!joinRootlessNetns(&err)) return complain(err);
  for (int i = 0; i < argc; i++) netlink::deleteLink(argv[i], &err);
  return 0;
}

}  // namespace berth

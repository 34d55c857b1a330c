#include "process.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "../common/fsutil.h"
#include "identity.h"
#include "init.h"
#include "security.h"

namespace berth {

void closeOtherFds(std::initializer_list<int> keep) {
  int maxKeep = 2;
  for (int k : keep) maxKeep = k > maxKeep ? k : maxKeep;
  for (int fd = 3; fd <= maxKeep; fd++) {
    bool kept = false;
    for (int k : keep) kept = kept || k == fd;
    if (!kept) close(fd);
  }
#ifdef SYS_close_range
  if (syscall(SYS_close_range, maxKeep + 1, ~0U, 0) == 0) return;
#endif
  for (int fd = maxKeep + 1; fd < 1024; fd++) close(fd);
}

void becomeContainerProcess(ProcessSpec spec, int errFd) {
  // Dispositions and the signal mask survive execve: give the program defaults.
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const auto& r : spec.rlimits) {
    struct rlimit rl = {r.soft, r.hard};
    if (setrlimit(r.resource, &rl) != 0) failChild(errFd, 125, std::string("setrlimit: ") + strerror(errno));
  }
  std::string err;
  Identity id;
  if (!resolveIdentity(spec.user, &id, &err)) failChild(errFd, 125, err);
  for (unsigned g : spec.extraGroups) id.groups.push_back(static_cast<gid_t>(g));
  completeEnvironment(&spec.env, id);
  if (spec.cwd.empty()) spec.cwd = "/";
  if (spec.createCwd) mkdirAll(spec.cwd, 0755);
  if (chdir(spec.cwd.c_str()) != 0)
    failChild(errFd, 126, "chdir to cwd (\"" + spec.cwd + "\") failed: " + strerror(errno));
  std::string path;
  int code = resolveExecutable(spec.args[0], spec.env, &path, &err);
  if (code != 0) failChild(errFd, code, err);
  if (!dropBoundingCapabilities(&err) || !applyIdentity(id, &err) || !setProcessCapabilities(id.uid == 0, &err) ||
      !setNoNewPrivs(&err) || !installSeccomp(&err))
    failChild(errFd, 125, err);
  if (!spec.extraGroups.empty()) {
    // Where setgroups is denied (rootless without a subordinate range) the
    // groups a device needs would be missing: refuse rather than run without.
    gid_t have[256];
    int n = getgroups(256, have);
    for (unsigned g : spec.extraGroups) {
      bool found = false;
      for (int i = 0; i < n; i++) found = found || have[i] == g;
      if (!found) failChild(errFd, 125, "cannot add the group " + std::to_string(g) + " that a device needs: this user namespace denies setgroups (ask an administrator for a subordinate range in /etc/subgid)");
    }
  }
  if (spec.init) runInit(path, spec.args, spec.env, errFd, spec.tty);
  execOrReport(path, spec.args, spec.env, errFd);
}

}  // namespace berth

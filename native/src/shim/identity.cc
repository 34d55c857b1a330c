#include "identity.h"

#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "../common/fsutil.h"
#include "rootless.h"

namespace berth {

namespace {

const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool isNumber(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::vector<std::string> fields(const std::string& line) { return split(line, ':'); }

}  // namespace

bool resolveIdentity(const std::string& spec, Identity* id, std::string* err) {
  std::string userPart = spec, groupPart;
  size_t colon = spec.find(':');
  if (colon != std::string::npos) {
    userPart = spec.substr(0, colon);
    groupPart = spec.substr(colon + 1);
  }
  if (userPart.empty()) userPart = "0";
  std::string passwd, group;
  readFile("/etc/passwd", &passwd);
  readFile("/etc/group", &group);
  std::string userName;
  bool found = false;
  for (const auto& line : splitLines(passwd)) {
    auto f = fields(line);
    if (f.size() < 7) continue;
    if (f[0] == userPart || (isNumber(userPart) && f[2] == userPart)) {
      userName = f[0];
      id->uid = static_cast<uid_t>(atoll(f[2].c_str()));
      id->gid = static_cast<gid_t>(atoll(f[3].c_str()));
      id->home = f[5].empty() ? "/" : f[5];
      found = true;
      break;
    }
  }
  if (!found) {
    if (!isNumber(userPart)) {
      *err = "unable to find user " + userPart + ": no matching entries in passwd file";
      return false;
    }
    id->uid = static_cast<uid_t>(atoll(userPart.c_str()));
    id->gid = 0;
  }
  if (!groupPart.empty()) {
    bool gfound = false;
    for (const auto& line : splitLines(group)) {
      auto f = fields(line);
      if (f.size() < 3) continue;
      if (f[0] == groupPart || (isNumber(groupPart) && f[2] == groupPart)) {
        id->gid = static_cast<gid_t>(atoll(f[2].c_str()));
        gfound = true;
        break;
      }
    }
    if (!gfound) {
      if (!isNumber(groupPart)) {
        *err = "unable to find group " + groupPart + ": no matching entries in group file";
        return false;
      }
      id->gid = static_cast<gid_t>(atoll(groupPart.c_str()));
    }
  }
  // Supplementary groups: every group listing the user as a member.
  id->groups.clear();
  id->groups.push_back(id->gid);
  if (!userName.empty()) {
    for (const auto& line : splitLines(group)) {
      auto f = fields(line);
      if (f.size() < 4) continue;
      for (const auto& m : split(f[3], ',')) {
        if (m == userName) {
          gid_t g = static_cast<gid_t>(atoll(f[2].c_str()));
          if (g != id->gid) id->groups.push_back(g);
        }
      }
    }
  }
  return true;
}

bool applyIdentity(const Identity& id, std::string* err) {
  // Where only the user is mapped (no subordinate range) the kernel denies
  // setgroups in the namespace; the process keeps the single group it has.
  bool groupsOk = setgroups(id.groups.size(), id.groups.data()) == 0 || (errno == EPERM && rootless());
  if (!groupsOk || setresgid(id.gid, id.gid, id.gid) != 0 || setresuid(id.uid, id.uid, id.uid) != 0) {
    *err = std::string("cannot switch to uid ") + std::to_string(id.uid) + ": " + strerror(errno) +
           (errno == EINVAL && rootless() ? " (that id is not mapped in this rootless namespace: ask an administrator for a "
                                            "subordinate range in /etc/subuid and /etc/subgid)"
                                          : "");
    return false;
  }
  return true;
}

int resolveExecutable(const std::string& argv0, const std::vector<std::string>& env, std::string* path,
                      std::string* err) {
  auto check = [&](const std::string& p) -> int {
    struct stat st;
    if (stat(p.c_str(), &st) != 0) return 127;
    if (S_ISDIR(st.st_mode) || access(p.c_str(), X_OK) != 0) return 126;
    return 0;
  };
  if (argv0.find('/') != std::string::npos) {
    int r = check(argv0);
    if (r == 127) *err = "exec: \"" + argv0 + "\": stat " + argv0 + ": no such file or directory";
    if (r == 126) *err = "exec: \"" + argv0 + "\": permission denied";
    *path = argv0;
    return r;
  }
  std::string pathVar = kDefaultPath;
  for (const auto& e : env)
    if (e.compare(0, 5, "PATH=") == 0) pathVar = e.substr(5);
  bool sawDenied = false;
  for (std::string dir : split(pathVar, ':')) {
    if (dir.empty()) dir = ".";
    std::string p = dir + "/" + argv0;
    int r = check(p);
    if (r == 0) {
      *path = p;
      return 0;
    }
    if (r == 126) sawDenied = true;
  }
  if (sawDenied) {
    *err = "exec: \"" + argv0 + "\": permission denied";
    return 126;
  }
  *err = "exec: \"" + argv0 + "\": executable file not found in $PATH";
  return 127;
}

void completeEnvironment(std::vector<std::string>* env, const Identity& id) {
  bool hasPath = false, hasHome = false;
  for (const auto& e : *env) {
    if (e.compare(0, 5, "PATH=") == 0) hasPath = true;
    if (e.compare(0, 5, "HOME=") == 0) hasHome = true;
  }
  if (!hasPath) env->insert(env->begin(), std::string("PATH=") + kDefaultPath);
  if (!hasHome) env->push_back("HOME=" + id.home);
}

}  // namespace berth

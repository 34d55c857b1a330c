#include "config.h"

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

#include "../common/fsutil.h"

namespace berth {

namespace {

int rlimitByName(const std::string& n) {
  static const struct {
    const char* name;
    int res;
  } table[] = {{"core", RLIMIT_CORE},     {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
               {"fsize", RLIMIT_FSIZE},   {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
               {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},   {"nofile", RLIMIT_NOFILE},
               {"nproc", RLIMIT_NPROC},   {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
               {"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK}};
  for (const auto& t : table)
    if (n == t.name) return t.res;
  return -1;
}

}  // namespace

bool loadConfig(const std::string& path, ContainerConfig* c, std::string* err) {
  std::string data;
  if (!readFile(path, &data)) {
    *err = "cannot read shim config " + path;
    return false;
  }
  size_t i = 0;
  while (i < data.size()) {
    size_t k = data.find('\0', i);
    if (k == std::string::npos) break;
    size_t v = data.find('\0', k + 1);
    if (v == std::string::npos) break;
    std::string key = data.substr(i, k - i), val = data.substr(k + 1, v - k - 1);
    i = v + 1;
    long long n = atoll(val.c_str());
    if (key == "id") c->id = val;
    else if (key == "bundle") c->bundle = val;
    else if (key == "layerdir") c->layerDir = val;
    else if (key == "lower") c->lowers.push_back(val);
    else if (key == "hostname") c->hostname = val;
    else if (key == "arg") c->args.push_back(val);
    else if (key == "env") c->env.push_back(val);
    else if (key == "cwd") c->cwd = val;
    else if (key == "user") c->user = val;
    else if (key == "network") c->network = val;
    else if (key == "net") {
      // BRIDGE|VETH|IFNAME|ADDRESS/PREFIX|GATEWAY|BRIDGE-ADDRESS/PREFIX[|MAC]
      auto f = split(val, '|');
      if (f.size() != 6 && f.size() != 7) {
        *err = "bad net entry " + val;
        return false;
      }
      c->nets.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f.size() == 7 ? f[6] : std::string()});
    }
    else if (key == "publish") c->publish.push_back(val);
    else if (key == "net-join-pid") c->netJoinPid = static_cast<int>(n);
    else if (key == "net-join-start") c->netJoinStart = strtoull(val.c_str(), nullptr, 10);
    else if (key == "cgroup-parent") c->cgroupParent = val;
    else if (key == "memory") c->limits.memory = n;
    else if (key == "memory-swap") c->limits.memorySwap = n;
    else if (key == "cpu-quota") c->limits.cpuQuota = n;
    else if (key == "cpu-period") c->limits.cpuPeriod = n;
    else if (key == "cpu-shares") c->limits.cpuShares = n;
    else if (key == "pids-limit") c->limits.pidsLimit = n;
    else if (key == "memory-reservation") c->limits.memoryReservation = n;
    else if (key == "cpuset-cpus") c->limits.cpusetCpus = val;
    else if (key == "blkio-weight") c->limits.blkioWeight = n;
    else if (key == "blkio-throttle") {
      // KIND MAJ:MIN RATE
      auto f = words(val);
      if (f.size() != 3) {
        *err = "bad blkio-throttle entry " + val;
        return false;
      }
      c->limits.throttles.push_back({f[0], f[1], strtoll(f[2].c_str(), nullptr, 10)});
    }
    else if (key == "release") c->releaseFiles.push_back(val);
    else if (key == "release-dir") c->releaseDirs.push_back(val);
    else if (key == "mount") {
      // TYPE\nSOURCE\nDEST\nro|rw\nCOPYUP\nDATA[\nFLAGS[\nSOURCEROOT]]
      auto f = split(val, '\n');
      if (f.size() < 6 || f.size() > 8 || f[2].empty() || f[2][0] != '/') {
        *err = "bad mount entry " + val;
        return false;
      }
      ContainerConfig::Mount m{f[0], f[1], f[2], f[3] == "ro", f[4] == "1", f[5]};
      if (f.size() == 7)
        for (const auto& o : split(f[6], ',')) m.nosuid = m.nosuid || o == "nosuid", m.noexec = m.noexec || o == "noexec";
      if (f.size() == 8) m.sourceRoot = f[7];
      c->mounts.push_back(m);
    }
    else if (key == "device") {
      // PATH\nc|b\nMAJOR\nMINOR\nMODE(octal)\nUID\nGID\nHOSTPATH
      auto f = split(val, '\n');
      if (f.size() != 8 || f[0].compare(0, 5, "/dev/") != 0 || (f[1] != "c" && f[1] != "b")) {
        *err = "bad device entry " + val;
        return false;
      }
      c->devices.push_back({f[0], f[1][0], static_cast<unsigned>(atol(f[2].c_str())), static_cast<unsigned>(atol(f[3].c_str())),
                            static_cast<unsigned>(strtoul(f[4].c_str(), nullptr, 8)), static_cast<unsigned>(atol(f[5].c_str())),
                            static_cast<unsigned>(atol(f[6].c_str())), f[7]});
    }
    else if (key == "device-rule") {
      // c|b MAJOR|* MINOR|* ACCESS
      auto f = words(val);
      if (f.size() != 4 || (f[0] != "c" && f[0] != "b")) {
        *err = "bad device rule " + val;
        return false;
      }
      auto num = [](const std::string& x) { return x == "*" ? int64_t(-1) : static_cast<int64_t>(atoll(x.c_str())); };
      c->limits.devices.push_back({f[0][0], num(f[1]), num(f[2]), f[3]});
    }
    else if (key == "hook") {
      // STAGE US TIMEOUT US PATH US NARGS US ARGS... US ENV... (US = 0x1f)
      auto f = split(val, '\x1f');
      size_t nargs = f.size() >= 4 ? static_cast<size_t>(atol(f[3].c_str())) : 0;
      if (f.size() < 4 || f[2].empty() || f[2][0] != '/' || f.size() < 4 + nargs) {
        *err = "bad hook entry " + val;
        return false;
      }
      ContainerConfig::Hook h{f[0], atoi(f[1].c_str()), f[2], {}, {}};
      h.args.assign(f.begin() + 4, f.begin() + 4 + static_cast<long>(nargs));
      h.env.assign(f.begin() + 4 + static_cast<long>(nargs), f.end());
      c->hooks.push_back(h);
    }
    else if (key == "hook-bundle") c->hookBundle = val;
    else if (key == "additional-gid") c->additionalGids.push_back(static_cast<unsigned>(n));
    else if (key == "tty") c->tty = val == "1";
    else if (key == "stdin") c->openStdin = val == "1";
    else if (key == "readonly") c->readonly = val == "1";
    else if (key == "init") c->init = val == "1";
    else if (key == "rm") c->autoRemove = val == "1";
    else if (key == "target-pid") c->targetPid = static_cast<int>(n);
    else if (key == "target-start") c->targetStart = strtoull(val.c_str(), nullptr, 10);
    else if (key == "rlimit") {
      // name=soft:hard
      size_t eq = val.find('='), colon = val.find(':');
      int res = rlimitByName(val.substr(0, eq));
      if (res < 0 || eq == std::string::npos || colon == std::string::npos) {
        *err = "bad rlimit " + val;
        return false;
      }
      c->rlimits.push_back({res, strtoull(val.c_str() + eq + 1, nullptr, 10), strtoull(val.c_str() + colon + 1, nullptr, 10)});
    }
    // Unknown keys are ignored so that an older shim can run a newer config.
  }
  if (c->args.empty()) {
    *err = "no command specified";  // netattach configs carry none: callers decide
    return false;
  }
  return true;
}

}  // namespace berth

// The container configuration the engine hands to berth-shim: a file of
// NUL-separated "key\0value\0" pairs (keys repeat for lists). NUL separation
// means arguments and environment values need no escaping at all.
#pragma once
#include <string>
#include <vector>

#include "../common/cgroup.h"

namespace berth {

struct Rlimit {
  int resource;
  unsigned long long soft, hard;
};

struct ContainerConfig {
  std::string id;
  std::string bundle;      // container directory: upper/, work/, merged/, state.json, logs
  std::string layerDir;    // lower layers are given relative to it (keeps overlay options short)
  std::vector<std::string> lowers;  // top-most first, init layer included
  std::string hostname;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::string user;
  std::string network = "none";  // none | host | bridge
  // One per network, in order: the first is eth0 and carries the default
  // route (unless its gateway is empty: an internal network).
  struct Net {
    std::string bridge, veth, ifname, address, gateway;
    std::string bridgeCidr;  // the bridge's own address: rootless shims make the bridge themselves
    std::string mac;  // the container end's address, "02:42:..."; empty: the kernel's choice
  };
  std::vector<Net> nets;
  std::vector<std::string> publish;  // "HOSTIP:HOSTPORT:CONTAINERPORT" (tcp)
  int netJoinPid = 0;                // --network container:NAME: that container's init
  unsigned long long netJoinStart = 0;
  std::string cgroupParent = "berth";
  // An empty parent: the container gets no cgroup at all (rootless where
  // none is delegated; it runs in the user's own, and the engine has
  // refused any limit beforehand).
  bool ownCgroup() const { return !cgroupParent.empty(); }
  cgroup::Limits limits;
  std::vector<Rlimit> rlimits;
  // -v, --mount, --tmpfs and image VOLUMEs, parents before children.
  struct Mount {
    std::string type;  // bind | volume | tmpfs
    std::string source, dest;
    bool readonly = false;
    bool copyUp = false;  // volume: fill an empty one from the image's files at dest
    std::string data;     // tmpfs mount options
    bool nosuid = false, noexec = false;  // CDI mounts may ask for these
    // bind: source is a path inside this directory, opened there as if it
    // were "/" (a build's context and stage mounts); empty: a host path.
    std::string sourceRoot;
  };
  std::vector<Mount> mounts;
  // --device and CDI device nodes, made in the container's /dev (root) or
  // bind-mounted from the host (rootless, where mknod is impossible).
  struct Device {
    std::string path;      // in the container, under /dev
    char type = 'c';       // c | b
    unsigned major = 0, minor = 0;
    unsigned mode = 0666;  // permission bits of the node
    unsigned uid = 0, gid = 0;
    std::string hostPath;  // what a rootless container binds
  };
  std::vector<Device> devices;
  // OCI hooks from CDI specs, each run with the OCI state on stdin.
  struct Hook {
    std::string stage;  // createRuntime | createContainer | startContainer | poststart | poststop
    int timeout = 0;    // seconds; 0 = none
    std::string path;
    std::vector<std::string> args, env;
  };
  std::vector<Hook> hooks;
  std::string hookBundle;              // the OCI bundle named in the state (holds config.json)
  std::vector<unsigned> additionalGids;
  std::vector<std::string> releaseDirs;   // removed with an auto-removed container: its anonymous volumes
  std::vector<std::string> releaseFiles;  // removed with an auto-removed container: its name link, its addresses
  bool tty = false;
  bool openStdin = false;
  bool readonly = false;
  bool init = false;
  bool autoRemove = false;
  // exec mode only
  int targetPid = 0;
  unsigned long long targetStart = 0;
};

bool loadConfig(const std::string& path, ContainerConfig* c, std::string* err);

}  // namespace berth

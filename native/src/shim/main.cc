// berth-shim: one small single-threaded process per container (see run.h),
// or per exec'd process (see exec.h). The Node engine never does namespace
// work itself: Node is multi-threaded and setns/unshare act on one thread.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "exec.h"
#include "rootless.h"
#include "run.h"

int main(int argc, char** argv) {
  // The shim trusts its caller: it makes namespaces, mounts and cgroups for
  // whoever runs it. A set-uid or set-gid copy (a careless install) would
  // hand those powers to any local user, so it refuses to run as one.
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0 || ruid != euid || ruid != suid || rgid != egid || rgid != sgid) {
    fprintf(stderr, "berth-shim: refusing to run set-uid or set-gid (real uid %u, effective uid %u; real gid %u, effective gid %u): remove the set-uid and set-gid bits (chmod ug-s %s); rootless Berth needs no privilege of its own\n",
            static_cast<unsigned>(ruid), static_cast<unsigned>(euid), static_cast<unsigned>(rgid), static_cast<unsigned>(egid), argv[0]);
    return 126;
  }
  if (argc == 3 && !strcmp(argv[1], "run")) return berth::runContainer(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "exec")) return berth::execInContainer(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "netattach")) return berth::attachNetwork(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "enter")) return berth::enterAndExec(argc - 2, argv + 2);
  if (argc >= 3 && !strcmp(argv[1], "netdel")) return berth::deleteRootlessLinks(argc - 2, argv + 2);
  fprintf(stderr, "usage: berth-shim run|exec|netattach CONFIG, enter PROGRAM [ARGS...], netdel LINK...\n(berth-shim is started by the Berth engine.)\n");
  return 2;
}

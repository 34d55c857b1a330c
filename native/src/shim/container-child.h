// The container's side of berth-shim run: cloning into new namespaces
// (and, where the kernel allows, straight into the container's cgroup), and
// the child that sets up the root filesystem, network, pty and process
// before it execs the container's program. The shim's supervising side is
// run.cc.
#pragma once
#include <sys/types.h>

#include "config.h"

namespace berth {

// The pipes and socket between the shim and the container's first process.
struct Pipes {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int sync[2] = {-1, -1}, errPipe[2] = {-1, -1}, sock[2] = {-1, -1};
};

// clone3 with CLONE_INTO_CGROUP where it can (placed is then true), else clone.
pid_t cloneContainer(unsigned long flags, int cgroupFd, bool* placed);

// Runs in the new namespaces: waits for the shim's go, then becomes the
// container's program, or reports "CODE message" on errPipe and exits.
[[noreturn]] void childMain(const ContainerConfig& c, const Pipes& p, int devNull);

}  // namespace berth

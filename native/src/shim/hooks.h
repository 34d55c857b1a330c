// OCI hooks (from CDI specs): host programs the runtime runs at fixed
// points of a container's life, each given the container's OCI state on
// stdin. createRuntime, poststart and poststop run in the shim;
// createContainer runs in the container's namespaces before pivot_root
// (its path is the host's), startContainer after it (its path is the
// container's), as the runtime spec places them.
#pragma once
#include <string>

#include "config.h"

namespace berth {

// Runs every hook of the stage in order; the first that fails or outlives
// its timeout stops the rest, and err says which and what it printed.
// pid is the container's init as the host sees it.
bool runHooks(const ContainerConfig& c, const std::string& stage, const char* status, int pid, std::string* err);

// The calling process's pid in the host's PID namespace (read through the
// host's /proc before the container's own is in place).
int hostPidOfSelf();

}  // namespace berth

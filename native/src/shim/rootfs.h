// The container's filesystem view: overlay root from image layers, /proc,
// read-only /sys, a minimal /dev, masked and read-only /proc paths, then
// pivot_root. Runs in the child, inside its new mount namespace.
#pragma once
#include <string>

#include "config.h"

namespace berth {

bool setupRootfs(const ContainerConfig& c, int hostPid, std::string* err);
// Brings up lo in a fresh network namespace (netns starts with lo down).
bool loopbackUp(std::string* err);

}  // namespace berth

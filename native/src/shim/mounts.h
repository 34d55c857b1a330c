// The container's own mounts: bind mounts, volumes (bind mounts of a
// directory the engine owns, filled from the image on first use) and tmpfs.
// Runs in the child after the root is mounted and before pivot_root; every
// destination is resolved inside the new root, so a symlink in the image
// can never point a mount at the host.
#pragma once
#include <string>

#include "config.h"

namespace berth {

bool setupMounts(const std::string& root, const ContainerConfig& c, std::string* err);

}  // namespace berth

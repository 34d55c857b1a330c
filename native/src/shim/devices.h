// Device nodes the container was given (--device, CDI deviceNodes), made in
// its private /dev before that is remounted read-only. Root makes real
// nodes, which the device cgroup then allows; a rootless container cannot
// mknod, so it gets the host's node bind-mounted (as Podman does), usable
// as far as the host's file permissions let the user.
#pragma once
#include <string>

#include "config.h"

namespace berth {

bool makeDevices(const std::string& dev, const ContainerConfig& c, std::string* err);

}  // namespace berth

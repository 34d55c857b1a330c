// What stands between a container's root and the host: Docker's default
// capability set, no_new_privs, and a default seccomp filter.
#pragma once
#include <string>

namespace berth {

// Drops the bounding set to Docker's default capabilities. Call while still
// fully privileged, before changing uid.
bool dropBoundingCapabilities(std::string* err);
// After the uid change: leaves root with the default set (effective and
// permitted, no inheritable, no ambient) and everyone else with none.
bool setProcessCapabilities(bool root, std::string* err);
bool setNoNewPrivs(std::string* err);
// Installs the seccomp filter; must be the last thing before execve.
bool installSeccomp(std::string* err);

}  // namespace berth

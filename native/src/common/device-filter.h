// The v2 device cgroup: cgroup v2 has no devices.allow file, so access to
// device nodes is decided by a BPF_CGROUP_DEVICE program attached to the
// container's cgroup (what runc and crun do). The program is an allow list:
// a request matching a rule is allowed, anything else is denied.
#pragma once
#include <string>
#include <vector>

#include "cgroup.h"

namespace berth {
namespace cgroup {

// Loads the program for rules and attaches it to the cgroup directory. The
// kernel keeps it attached after the descriptor closes, until the cgroup goes.
bool attachDeviceFilter(const std::string& dir, const std::vector<DeviceRule>& rules, std::string* err);

}  // namespace cgroup
}  // namespace berth

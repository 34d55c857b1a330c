// `berth-shim exec CONFIG`: runs one more process inside a running
// container: joins its cgroup and namespaces, then takes the same last steps
// as the container's own process. Reports on fd 3 like `run`.
#pragma once

namespace berth {

int execInContainer(const char* configPath);

}  // namespace berth

// /sys/fs/cgroup inside the container, as docker shows it: the container's
// own cgroup, read-only, seen through its cgroup namespace (so it appears
// as the root and nothing of the host's hierarchy is visible). Programs
// that size themselves from cgroup files (the JVM, Go, .NET, BLAS thread
// pools reading cpu.max) find their limits there.
#pragma once
#include <string>

namespace berth {

// Called in the container's mount and cgroup namespaces, after /sys is
// mounted at root + "/sys" and before pivot_root. A container with no cgroup
// of its own (rootless, where none is delegated) gets an empty directory.
bool mountCgroupFs(const std::string& root, bool ownCgroup, std::string* err);

}  // namespace berth

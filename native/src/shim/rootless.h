// Rootless Berth, as Podman does it: one user namespace per user, held by a
// small "pause" process, in which Berth itself runs as root. The user's own
// uid is root there and the user's range from /etc/subuid and /etc/subgid
// (mapped by the set-uid newuidmap/newgidmap that Debian ships, never a
// program of Berth's own) is 1..65536. Everything Berth does then stays
// within what the user could do: files it writes are the user's or in the
// user's subordinate range, and namespaces it makes belong to that user
// namespace. The pause process also holds the network namespace where
// rootless bridges live, so that they never touch the host's interfaces.
#pragma once
#include <string>
#include <vector>

#include "config.h"

namespace berth {

// `berth-shim enter PROGRAM [ARGS...]`: as root, runs PROGRAM as it is; as
// another user, joins (or first makes) the user's namespace and runs
// PROGRAM there, with BERTH_ROOTLESS, BERTH_PAUSE_PID and BERTH_RUN set.
int enterAndExec(int argc, char** argv);

// True in a process started through enterAndExec by a user who is not root.
bool rootless();

// Moves this (single-threaded) process into the network namespace that the
// pause process holds: the one where rootless bridges live.
bool joinRootlessNetns(std::string* err);

// The same, and makes the bridges these networks need there.
bool joinRootlessBridges(const std::vector<ContainerConfig::Net>& nets, std::string* err);

// `berth-shim netdel NAME...`: deletes links in the rootless network
// namespace (a removed network's bridge, a disconnected container's veth).
int deleteRootlessLinks(int argc, char** argv);

}  // namespace berth

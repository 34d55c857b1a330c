// `berth-shim exec CONFIG`: runs one more process inside a running
// container: joins its cgroup and namespaces, then takes the same last steps
// as the container's own process. Reports on fd 3 like `run`.
#pragma once

namespace berth {

int execInContainer(const char* configPath);

// `berth-shim netattach CONFIG`: gives a running container one more network
// interface (network connect): a veth whose peer is born in its namespace,
// then the address set from inside. Prints nothing; exit 0 or 125 + message.
int attachNetwork(const char* configPath);

}  // namespace berth

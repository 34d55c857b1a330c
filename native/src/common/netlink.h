// Links, addresses and routes over rtnetlink (NETLINK_ROUTE), in whatever
// network namespace the calling thread is in. Used by the shim (veth pairs,
// the container's eth0) and the addon (bridges).
#pragma once
#include <string>

namespace berth {
namespace netlink {

bool linkExists(const std::string& name);
bool createBridge(const std::string& name, std::string* err);
// Creates the bridge with its gateway address and brings it up; a bridge
// that exists already (made by a racing Berth process) is success.
bool ensureBridge(const std::string& name, const std::string& cidr, std::string* err);
// The peer is created directly in the network namespace of peerPid (when >0),
// under its final name: no move between namespaces, which costs an RCU wait.
// mac: the peer's address as "aa:bb:cc:dd:ee:ff", or empty for the kernel's choice.
bool createVeth(const std::string& name, const std::string& peer, int peerPid, const std::string& mac, std::string* err);
bool setMaster(const std::string& name, const std::string& master, std::string* err);
bool setUp(const std::string& name, std::string* err);
// cidr: "172.30.0.2/16"
bool addAddress(const std::string& name, const std::string& cidr, std::string* err);
bool addDefaultRoute(const std::string& gateway, std::string* err);
bool deleteLink(const std::string& name, std::string* err);

}  // namespace netlink
}  // namespace berth

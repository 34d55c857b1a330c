#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <cstdio>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace berth {
namespace netlink {

namespace {

// A request buffer with helpers to append attributes (nested ones too).
struct Request {
  alignas(NLMSG_ALIGNTO) char buf[1024];
  nlmsghdr* h;

  Request(uint16_t type, uint16_t flags, size_t bodyLen) {
    memset(buf, 0, sizeof buf);
    h = reinterpret_cast<nlmsghdr*>(buf);
    h->nlmsg_len = NLMSG_LENGTH(bodyLen);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    h->nlmsg_seq = 1;
  }
  void* body() { return NLMSG_DATA(h); }
  rtattr* add(uint16_t type, const void* data, size_t len) {
    rtattr* a = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    if (len) memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
  }
  rtattr* add(uint16_t type, const std::string& s) { return add(type, s.c_str(), s.size() + 1); }
  rtattr* begin(uint16_t type) { return add(type, nullptr, 0); }
  void end(rtattr* a) { a->rta_len = static_cast<uint16_t>(buf + h->nlmsg_len - reinterpret_cast<char*>(a)); }
};

bool talk(Request& r, std::string* err, const std::string& what) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    *err = what + ": netlink socket: " + strerror(errno);
    return false;
  }
  sockaddr_nl sa = {};
  sa.nl_family = AF_NETLINK;
  bool ok = sendto(fd, r.buf, r.h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) >= 0;
  int code = ok ? 0 : errno;
  if (ok) {
    alignas(NLMSG_ALIGNTO) char reply[4096];
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      code = errno;
    } else {
      auto* rh = reinterpret_cast<nlmsghdr*>(reply);
      if (rh->nlmsg_type == NLMSG_ERROR) code = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(rh))->error;
    }
  }
  close(fd);
  if (code != 0) {
    *err = what + ": " + strerror(code);
    return false;
  }
  return true;
}

bool index(const std::string& name, int* idx, std::string* err) {
  *idx = static_cast<int>(if_nametoindex(name.c_str()));
  if (*idx == 0) {
    *err = "no network interface named " + name;
    return false;
  }
  return true;
}

// RTM_NEWLINK/SETLINK on an existing link with one attribute or flag change.
bool changeLink(const std::string& name, std::string* err, const std::string& what, void (*fill)(Request&, const void*), const void* arg,
                unsigned flags = 0, unsigned change = 0) {
  int idx;
  if (!index(name, &idx, err)) return false;
  Request r(RTM_NEWLINK, 0, sizeof(ifinfomsg));
  auto* ifi = static_cast<ifinfomsg*>(r.body());
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = idx;
  ifi->ifi_flags = flags;
  ifi->ifi_change = change;
  if (fill) fill(r, arg);
  return talk(r, err, what);
}

}  // namespace

bool linkExists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

namespace {

// Whether the link is up, asked of this network namespace (sysfs shows the
// namespace it was mounted in, which need not be this one).
bool linkUp(const std::string& name) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  bool up = ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  close(s);
  return up;
}

}  // namespace

bool ensureBridge(const std::string& name, const std::string& cidr, std::string* err) {
  if (linkExists(name)) return true;
  // Several Berth processes may race to make the same bridge: losing the
  // race (EEXIST on the link or its address) is success.
  if (!createBridge(name, err)) {
    if (!linkExists(name)) return false;
    for (int i = 0; i < 100 && !linkUp(name); i++) usleep(2000);  // the winner may still be adding the address
    return true;
  }
  if (((!addAddress(name, cidr, err) && err->find("File exists") == std::string::npos) || !setUp(name, err))) {
    std::string ignored;
    deleteLink(name, &ignored);
    return false;
  }
  return true;
}

bool createBridge(const std::string& name, std::string* err) {
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(ifinfomsg));
  static_cast<ifinfomsg*>(r.body())->ifi_family = AF_UNSPEC;
  r.add(IFLA_IFNAME, name);
  rtattr* info = r.begin(IFLA_LINKINFO);
  r.add(IFLA_INFO_KIND, std::string("bridge"));
  r.end(info);
  return talk(r, err, "creating bridge " + name);
}

bool createVeth(const std::string& name, const std::string& peer, int peerPid, const std::string& mac, std::string* err) {
  unsigned char addr[6];
  if (!mac.empty() && sscanf(mac.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &addr[0], &addr[1], &addr[2], &addr[3], &addr[4], &addr[5]) != 6) {
    *err = "bad MAC address " + mac;
    return false;
  }
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(ifinfomsg));
  static_cast<ifinfomsg*>(r.body())->ifi_family = AF_UNSPEC;
  r.add(IFLA_IFNAME, name);
  rtattr* info = r.begin(IFLA_LINKINFO);
  r.add(IFLA_INFO_KIND, std::string("veth"));
  rtattr* data = r.begin(IFLA_INFO_DATA);
  rtattr* peerInfo = r.begin(VETH_INFO_PEER);
  ifinfomsg peerMsg = {};
  peerMsg.ifi_family = AF_UNSPEC;
  // The peer's ifinfomsg sits right in the attribute, then its own attributes.
  memcpy(RTA_DATA(peerInfo), &peerMsg, sizeof peerMsg);
  r.h->nlmsg_len += NLMSG_ALIGN(sizeof peerMsg);
  r.add(IFLA_IFNAME, peer);
  if (!mac.empty()) r.add(IFLA_ADDRESS, addr, sizeof addr);
  if (peerPid > 0) {
    uint32_t p = static_cast<uint32_t>(peerPid);
    r.add(IFLA_NET_NS_PID, &p, sizeof p);
  }
  r.end(peerInfo);
  r.end(data);
  r.end(info);
  return talk(r, err, "creating veth pair " + name + "/" + peer);
}

bool setMaster(const std::string& name, const std::string& master, std::string* err) {
  int m;
  if (!index(master, &m, err)) return false;
  return changeLink(name, err, "attaching " + name + " to " + master,
                    [](Request& r, const void* a) { r.add(IFLA_MASTER, a, sizeof(int)); }, &m);
}

bool setUp(const std::string& name, std::string* err) {
  return changeLink(name, err, "bringing up " + name, nullptr, nullptr, IFF_UP, IFF_UP);
}

bool addAddress(const std::string& name, const std::string& cidr, std::string* err) {
  int idx;
  if (!index(name, &idx, err)) return false;
  size_t slash = cidr.find('/');
  std::string ip = cidr.substr(0, slash);
  int prefix = slash == std::string::npos ? 32 : atoi(cidr.c_str() + slash + 1);
  in_addr addr;
  if (inet_pton(AF_INET, ip.c_str(), &addr) != 1) {
    *err = "bad IPv4 address " + cidr;
    return false;
  }
  Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(ifaddrmsg));
  auto* ifa = static_cast<ifaddrmsg*>(r.body());
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
  ifa->ifa_index = static_cast<unsigned>(idx);
  r.add(IFA_LOCAL, &addr, sizeof addr);
  r.add(IFA_ADDRESS, &addr, sizeof addr);
  in_addr bcast = addr;
  if (prefix < 31) bcast.s_addr = addr.s_addr | htonl(0xffffffffu >> prefix);
  r.add(IFA_BROADCAST, &bcast, sizeof bcast);
  return talk(r, err, "adding address " + cidr + " to " + name);
}

bool addDefaultRoute(const std::string& gateway, std::string* err) {
  in_addr gw;
  if (inet_pton(AF_INET, gateway.c_str(), &gw) != 1) {
    *err = "bad gateway " + gateway;
    return false;
  }
  Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(rtmsg));
  auto* rt = static_cast<rtmsg*>(r.body());
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  r.add(RTA_GATEWAY, &gw, sizeof gw);
  return talk(r, err, "adding the default route via " + gateway);
}

bool deleteLink(const std::string& name, std::string* err) {
  int idx;
  if (!index(name, &idx, err)) return true;  // already gone
  Request r(RTM_DELLINK, 0, sizeof(ifinfomsg));
  auto* ifi = static_cast<ifinfomsg*>(r.body());
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = idx;
  return talk(r, err, "deleting " + name);
}

}  // namespace netlink
}  // namespace berth

#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <cstring>

namespace berth {

namespace {

const size_t kChunk = 1 << 20;
const long kUdpIdleSeconds = 60;

long nowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

void closeFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

bool PortProxy::listen(const std::vector<Publish>& ports, const std::string& containerIp, std::string* err) {
  containerIp_ = containerIp;
  for (const auto& p : ports) {
    int fd = socket(AF_INET, (p.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(p.hostPort));
    if (inet_pton(AF_INET, p.hostIp.c_str(), &sa.sin_addr) != 1 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        (!p.udp && ::listen(fd, 128) != 0)) {
      *err = "Bind for " + p.hostIp + ":" + std::to_string(p.hostPort) + " failed: " +
             (errno == EADDRINUSE ? std::string("port is already allocated")
              : errno == EACCES && p.hostPort < 1024
                  ? std::string("permission denied: ports below 1024 are root's; publish one of 1024 or above (-p 8080:") +
                        std::to_string(p.containerPort) + "), or an administrator lowers sysctl net.ipv4.ip_unprivileged_port_start"
                  : std::string(strerror(errno)));
      close(fd);
      closeAll();
      return false;
    }
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    Publish bound = p;
    bound.hostPort = ntohs(sa.sin_port);
    listeners_.push_back({fd, bound});
  }
  return true;
}

std::string PortProxy::describeJson() const {
  std::string out = "[";
  for (size_t i = 0; i < listeners_.size(); i++) {
    const auto& p = listeners_[i].p;
    out += (i ? "," : "") + std::string("{\"HostIp\":\"") + p.hostIp + "\",\"HostPort\":" + std::to_string(p.hostPort) +
           ",\"ContainerPort\":" + std::to_string(p.containerPort) + ",\"Protocol\":\"" + (p.udp ? "udp" : "tcp") + "\"}";
  }
  return out + "]";
}

void PortProxy::addPollFds(std::vector<pollfd>* fds) {
  for (const auto& l : listeners_) fds->push_back({l.fd, POLLIN, 0});
  for (const auto& u : udp_) fds->push_back({u.upstream, POLLIN, 0});
  for (const auto& c : conns_) {
    short up = 0, cl = 0;
    if (c.connecting) {
      up = POLLOUT;
    } else {
      if (c.pendUp == 0 && !c.clientEof) cl |= POLLIN;
      if (c.pendUp > 0) up |= POLLOUT;
      if (c.pendClient == 0 && !c.upEof) up |= POLLIN;
      if (c.pendClient > 0) cl |= POLLOUT;
    }
    fds->push_back({c.client, cl, 0});
    fds->push_back({c.upstream, up, 0});
  }
}

sockaddr_in PortProxy::upstreamAddress(int port) const {
  sockaddr_in sa = {};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, containerIp_.c_str(), &sa.sin_addr);
  return sa;
}

void PortProxy::accept(const Listener& l) {
  for (;;) {
    int client = accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) return;
    Conn c;
    c.client = client;
    c.upstream = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in sa = upstreamAddress(l.p.containerPort);
    bool piped = pipe2(c.toUp, O_NONBLOCK | O_CLOEXEC) == 0 && pipe2(c.toClient, O_NONBLOCK | O_CLOEXEC) == 0;
    if (piped) {
      // Bigger pipes: fewer splice calls and poll rounds per megabyte.
      fcntl(c.toUp[1], F_SETPIPE_SZ, static_cast<int>(kChunk));
      fcntl(c.toClient[1], F_SETPIPE_SZ, static_cast<int>(kChunk));
    }
    if (!piped ||
        (connect(c.upstream, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS)) {
      finish(c);
      continue;
    }
    conns_.push_back(c);
  }
}

// Moves what `from` has into the pipe, then on towards the other side.
void PortProxy::pump(Conn& c, int from, int pipeW, size_t* pend, bool* eof) {
  ssize_t n = splice(from, nullptr, pipeW, nullptr, kChunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) *pend += static_cast<size_t>(n);
  else if (n == 0) *eof = true;
  else if (errno != EAGAIN) c.dead = true;
}

void PortProxy::flush(Conn& c, int pipeR, int to, size_t* pend) {
  while (*pend > 0) {
    ssize_t n = splice(pipeR, nullptr, to, nullptr, *pend, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) *pend -= static_cast<size_t>(n);
    else {
      if (n < 0 && errno != EAGAIN) c.dead = true;
      return;
    }
  }
}

void PortProxy::udpFromClient(const Listener& l) {
  char buf[65536];
  for (;;) {
    sockaddr_storage from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(l.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    UdpSession* s = nullptr;
    for (auto& u : udp_)
      if (u.listenerFd == l.fd && u.clientLen == len && memcmp(&u.client, &from, len) == 0) s = &u;
    if (!s) {
      UdpSession u;
      u.listenerFd = l.fd;
      u.client = from;
      u.clientLen = len;
      u.upstream = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in sa = upstreamAddress(l.p.containerPort);
      if (u.upstream < 0 || connect(u.upstream, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        if (u.upstream >= 0) close(u.upstream);
        continue;
      }
      udp_.push_back(u);
      s = &udp_.back();
    }
    s->lastActive = nowSeconds();
    if (send(s->upstream, buf, static_cast<size_t>(n), 0) < 0) {}
  }
}

void PortProxy::udpFromContainer(UdpSession& s) {
  char buf[65536];
  for (;;) {
    ssize_t n = recv(s.upstream, buf, sizeof buf, 0);
    if (n < 0) return;
    s.lastActive = nowSeconds();
    // Replies leave from the published port, as the client expects.
    if (sendto(s.listenerFd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&s.client), s.clientLen) < 0) {}
  }
}

void PortProxy::handle(const pollfd* fds, size_t count) {
  size_t i = 0;
  for (const auto& l : listeners_) {
    if (i < count && (fds[i].revents & POLLIN)) {
      if (l.p.udp) udpFromClient(l);
      else accept(l);
    }
    i++;
  }
  size_t udpPolled = 0;
  for (size_t k = 0; i < count && k < udp_.size(); k++, i++, udpPolled++) {
    if (fds[i].revents & POLLIN) udpFromContainer(udp_[k]);
  }
  long now = nowSeconds();
  for (size_t k = 0; k < udp_.size();) {
    if (now - udp_[k].lastActive > kUdpIdleSeconds) {
      close(udp_[k].upstream);
      udp_.erase(udp_.begin() + static_cast<long>(k));
    } else {
      k++;
    }
  }
  // conns_ may have grown in accept(): only the ones that were polled.
  size_t polled = (count - listeners_.size() - udpPolled) / 2;
  for (size_t k = 0; k < polled && k < conns_.size(); k++) {
    Conn& c = conns_[k];
    short cr = fds[i++].revents, ur = fds[i++].revents;
    if (c.connecting) {
      if (!ur) continue;
      int e = 0;
      socklen_t len = sizeof e;
      getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &e, &len);
      if (e != 0) {
        c.dead = true;
        continue;
      }
      c.connecting = false;
      continue;
    }
    // Move data until both directions would block, not one chunk per round.
    bool moreUp = (cr & (POLLIN | POLLHUP | POLLERR)) || (ur & POLLOUT);
    bool moreDown = (ur & (POLLIN | POLLHUP | POLLERR)) || (cr & POLLOUT);
    for (int rounds = 0; rounds < 64 && !c.dead && (moreUp || moreDown); rounds++) {
      size_t beforeUp = c.pendUp, beforeDown = c.pendClient;
      bool eofUp = c.clientEof, eofDown = c.upEof;
      if (moreUp && !c.clientEof && c.pendUp == 0) pump(c, c.client, c.toUp[1], &c.pendUp, &c.clientEof);
      if (moreDown && !c.upEof && c.pendClient == 0) pump(c, c.upstream, c.toClient[1], &c.pendClient, &c.upEof);
      size_t readUp = c.pendUp - beforeUp, readDown = c.pendClient - beforeDown;
      flush(c, c.toUp[0], c.upstream, &c.pendUp);
      flush(c, c.toClient[0], c.client, &c.pendClient);
      moreUp = moreUp && (readUp > 0 || c.clientEof != eofUp) && c.pendUp == 0;
      moreDown = moreDown && (readDown > 0 || c.upEof != eofDown) && c.pendClient == 0;
    }
    // Half-close once a side is done and everything it sent is delivered.
    if (c.clientEof && c.pendUp == 0) shutdown(c.upstream, SHUT_WR);
    if (c.upEof && c.pendClient == 0) shutdown(c.client, SHUT_WR);
    if (c.clientEof && c.upEof && c.pendUp == 0 && c.pendClient == 0) c.dead = true;
  }
  for (size_t k = 0; k < conns_.size();) {
    if (conns_[k].dead) {
      finish(conns_[k]);
      conns_.erase(conns_.begin() + static_cast<long>(k));
    } else {
      k++;
    }
  }
}

void PortProxy::finish(Conn& c) {
  closeFd(&c.client);
  closeFd(&c.upstream);
  for (int* fd : {&c.toUp[0], &c.toUp[1], &c.toClient[0], &c.toClient[1]}) closeFd(fd);
}

void PortProxy::closeAll() {
  for (auto& c : conns_) finish(c);
  conns_.clear();
  for (auto& u : udp_) close(u.upstream);
  udp_.clear();
  for (auto& l : listeners_) close(l.fd);
  listeners_.clear();
}

}  // namespace berth

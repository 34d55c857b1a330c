// Published ports (-p): the shim listens on the host side and relays each
// TCP connection to the container's address, zero-copy with splice(2)
// through a pipe per direction. It lives as long as the container.
#pragma once
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <vector>

namespace berth {

struct Publish {
  std::string hostIp;  // "127.0.0.1", "0.0.0.0"
  int hostPort;        // 0: any free port (the chosen one is reported)
  int containerPort;
  bool udp = false;
};

class PortProxy {
 public:
  // Binds every published port; false with err if one is taken.
  bool listen(const std::vector<Publish>& ports, const std::string& containerIp, std::string* err);
  // "127.0.0.1:8080->80/tcp" entries with the ports actually bound.
  std::string describeJson() const;
  // Adds the fds to watch; handle() takes their revents back in the same order.
  void addPollFds(std::vector<pollfd>* fds);
  void handle(const pollfd* fds, size_t count);
  void closeAll();
  ~PortProxy() { closeAll(); }

 private:
  struct Listener {
    int fd;
    Publish p;
  };
  // One per UDP client address: a connected socket towards the container.
  struct UdpSession {
    int listenerFd = -1, upstream = -1;
    sockaddr_storage client;
    socklen_t clientLen = 0;
    long lastActive = 0;
  };
  void udpFromClient(const Listener& l);
  void udpFromContainer(UdpSession& s);
  std::vector<UdpSession> udp_;
  struct Conn {
    int client = -1, upstream = -1;
    int toUp[2] = {-1, -1}, toClient[2] = {-1, -1};
    size_t pendUp = 0, pendClient = 0;
    bool connecting = true, clientEof = false, upEof = false, dead = false;
  };
  sockaddr_in upstreamAddress(int port) const;
  void accept(const Listener& l);
  void pump(Conn& c, int from, int pipeW, size_t* pend, bool* eof);
  void flush(Conn& c, int pipeR, int to, size_t* pend);
  void finish(Conn& c);
  std::vector<Listener> listeners_;
  std::vector<Conn> conns_;
  std::string containerIp_;
};

}  // namespace berth

#include "tty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace berth {

bool openPty(int* master, int* slave, std::string* err) {
  *master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0 || unlockpt(*master) != 0) {
    *err = std::string("opening a pty: ") + strerror(errno);
    return false;
  }
  char name[64];
  if (ptsname_r(*master, name, sizeof name) != 0 || (*slave = open(name, O_RDWR | O_NOCTTY)) < 0) {
    *err = std::string("opening the pty slave: ") + strerror(errno);
    return false;
  }
  return true;
}

bool becomeTtyOwner(int slave) {
  if (ioctl(slave, TIOCSCTTY, 0) != 0) return false;
  for (int fd = 0; fd < 3; fd++) dup2(slave, fd);
  if (slave > 2) close(slave);
  return true;
}

bool sendFd(int sock, int fd) {
  char byte = 'm';
  struct iovec iov = {&byte, 1};
  char ctrl[CMSG_SPACE(sizeof(int))];
  memset(ctrl, 0, sizeof ctrl);
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &msg, 0) == 1;
}

int receiveFd(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  char ctrl[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

void copyWindowSize(int fromFd, int toFd) {
  struct winsize ws;
  if (fromFd < 0 || ioctl(fromFd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) {
    ws = {};
    ws.ws_row = 24;
    ws.ws_col = 80;
  }
  ioctl(toFd, TIOCSWINSZ, &ws);
}

void RawTerminal::enter(int fd) {
  if (!isatty(fd) || tcgetattr(fd, &saved_) != 0) return;
  struct termios raw = saved_;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
}

void RawTerminal::restore() {
  if (fd_ >= 0) tcsetattr(fd_, TCSANOW, &saved_);
  fd_ = -1;
}

}  // namespace berth

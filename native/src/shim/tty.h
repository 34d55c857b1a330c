// Pseudo-terminals for -t: the pty is opened inside the container's own
// devpts instance and its master handed to the shim over a socketpair.
#pragma once
#include <termios.h>

#include <string>

namespace berth {

// Opens a pty pair in the current /dev; returns false with err on failure.
bool openPty(int* master, int* slave, std::string* err);
// Makes slave the controlling terminal and stdio of the calling process.
bool becomeTtyOwner(int slave);
bool sendFd(int sock, int fd);
int receiveFd(int sock);
// Copies the window size of fromFd (a terminal) to toFd, or sets 24x80.
void copyWindowSize(int fromFd, int toFd);

// Puts a client's terminal in raw mode while attached, and restores it.
class RawTerminal {
 public:
  void enter(int fd);
  void restore();
  ~RawTerminal() { restore(); }

 private:
  int fd_ = -1;
  struct termios saved_;
};

}  // namespace berth

#include "status.h"

#include <fcntl.h>
#include <unistd.h>

namespace berth {

namespace {
const int kStatusFd = 3;
}

StatusPipe::StatusPipe() : open_(fcntl(kStatusFd, F_GETFD) >= 0) {}

// A client that went away closes the pipe; the shim carries on without it.
void StatusPipe::line(const std::string& text) {
  if (!open_) return;
  std::string l = text + "\n";
  if (write(kStatusFd, l.data(), l.size()) < 0) open_ = false;
}

void StatusPipe::started(int pid) { line("started " + std::to_string(pid)); }

void StatusPipe::error(int code, const std::string& message) { line("error " + std::to_string(code) + " " + message); }

void StatusPipe::exited(int code, bool oomKilled, int64_t peakBytes, int64_t cpuNs) {
  line("exited " + std::to_string(code) + (oomKilled ? " 1 " : " 0 ") + std::to_string(peakBytes) + " " + std::to_string(cpuNs));
}

}  // namespace berth

// The shim's status protocol, defined once for `run` and `exec`. The engine
// (kernel/engine/containers/shim-status.ts mirrors it) reads fd 3, one line
// per event:
//   started PID                          once, when the program runs
//   error CODE MESSAGE                   once, instead of started: 125 the
//                                        container could not be set up, 126
//                                        the program cannot be executed,
//                                        127 it is not there
//   exited CODE OOMKILLED PEAK CPU_NS    at the end: OOMKILLED 0 or 1, PEAK
//                                        bytes and CPU_NS nanoseconds, -1
//                                        where not measured (an exec has no
//                                        cgroup of its own)
// When the client closes fd 3 the shim goes on alone and keeps logging.
#pragma once
#include <cstdint>
#include <string>

namespace berth {

class StatusPipe {
 public:
  StatusPipe();
  void started(int pid);
  void error(int code, const std::string& message);
  void exited(int code, bool oomKilled, int64_t peakBytes, int64_t cpuNs);
  // For poll: the pipe's fd while a client holds it, -1 once it has gone.
  int pollFd() const { return open_ ? 3 : -1; }
  // The client hung up: nothing more is written.
  void lost() { open_ = false; }

 private:
  void line(const std::string& text);
  bool open_;
};

}  // namespace berth

// The shim's record of one container run, written atomically to
// BUNDLE/state.json so that any Berth process can read it at any moment.
#pragma once
#include <cstdint>
#include <string>

namespace berth {

struct RunState {
  std::string status = "created";  // created | running | exited
  int pid = 0;
  uint64_t pidStart = 0;
  int shimPid = 0;
  std::string startedAt, finishedAt;
  int exitCode = 0;
  bool oomKilled = false;
  std::string error;
  int64_t peakMemory = 0;
  int64_t cpuNs = 0;
  std::string portsJson = "[]";  // published ports as bound
};

bool writeState(const std::string& bundle, const RunState& s);

}  // namespace berth

#include "state.h"

#include "../common/fsutil.h"

namespace berth {

bool writeState(const std::string& bundle, const RunState& s) {
  std::string j = "{\"Status\":\"" + s.status + "\",\"Pid\":" + std::to_string(s.pid) +
                  ",\"PidStart\":" + std::to_string(s.pidStart) + ",\"ShimPid\":" + std::to_string(s.shimPid) +
                  ",\"StartedAt\":\"" + s.startedAt + "\",\"FinishedAt\":\"" + s.finishedAt +
                  "\",\"ExitCode\":" + std::to_string(s.exitCode) + ",\"OOMKilled\":" +
                  (s.oomKilled ? "true" : "false") + ",\"Error\":\"" + jsonEscape(s.error) +
                  "\",\"PeakMemory\":" + std::to_string(s.peakMemory) + ",\"CpuNs\":" + std::to_string(s.cpuNs) +
                  ",\"Ports\":" + s.portsJson + "}\n";
  return writeFileAtomic(bundle + "/state.json", j);
}

}  // namespace berth

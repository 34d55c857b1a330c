// --init: PID 1 stays a tiny reaper that forwards signals to the command and
// exits with its status (what tini does for docker), so that zombies are
// reaped and SIGTERM reaches programs that never expected to be PID 1.
#pragma once
#include <string>
#include <vector>

namespace berth {

// Forks the command and supervises it; never returns. errFd is the
// close-on-exec pipe that reports an exec failure to the shim.
[[noreturn]] void runInit(const std::string& path, const std::vector<std::string>& args,
                          const std::vector<std::string>& env, int errFd, bool tty);

// Builds argv/envp arrays and execs; on failure reports "CODE message" on
// errFd and exits with 126 or 127.
[[noreturn]] void execOrReport(const std::string& path, const std::vector<std::string>& args,
                               const std::vector<std::string>& env, int errFd);

// Reports a setup failure to the shim and exits with code.
[[noreturn]] void failChild(int errFd, int code, const std::string& message);

}  // namespace berth

// The last steps every container process takes, for `run` and `exec` alike:
// identity, environment, working directory, capabilities, no_new_privs,
// seccomp, then execve.
#pragma once
#include <string>
#include <vector>

#include "config.h"

namespace berth {

struct ProcessSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::string user;
  std::vector<Rlimit> rlimits;
  bool createCwd = true;  // run creates a missing -w directory, exec refuses it (as docker does)
  bool init = false;
  bool tty = false;
  std::vector<unsigned> extraGroups;  // CDI additionalGids
};

[[noreturn]] void becomeContainerProcess(ProcessSpec spec, int errFd);

// Closes every descriptor from 3 up except those listed.
void closeOtherFds(std::initializer_list<int> keep);

}  // namespace berth

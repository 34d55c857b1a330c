#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <vector>

#include "../common/fsutil.h"
#include "process.h"

namespace berth {

namespace {

std::string stateJson(const ContainerConfig& c, const char* status, int pid) {
  return std::string("{\"ociVersion\":\"1.0.2\",\"id\":\"") + jsonEscape(c.id) + "\",\"status\":\"" + status + "\",\"pid\":" +
         std::to_string(pid) + ",\"bundle\":\"" + jsonEscape(c.hookBundle.empty() ? c.bundle : c.hookBundle) + "\",\"annotations\":{}}";
}

std::vector<char*> cstrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(&s[0]);
  out.push_back(nullptr);
  return out;
}

bool runHook(const ContainerConfig::Hook& h, const std::string& state, std::string* err) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return (*err = std::string("pipe: ") + strerror(errno)), false;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return (*err = std::string("pipe: ") + strerror(errno)), false;
  }
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<std::string> env = h.env;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    closeOtherFds({});
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    auto argv = cstrings(args), envp = cstrings(env);
    execve(h.path.c_str(), argv.data(), envp.data());
    dprintf(2, "cannot run %s: %s", h.path.c_str(), strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (pid < 0) {
    close(in[1]), close(out[0]);
    return (*err = std::string("fork: ") + strerror(errno)), false;
  }
  // The state is far below a pipe's buffer; a hook that never reads it
  // must not kill the caller with SIGPIPE.
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  writeAll(in[1], state.data(), state.size());
  signal(SIGPIPE, old);
  close(in[1]);
  int64_t deadline = h.timeout > 0 ? monotonicMs() + int64_t(h.timeout) * 1000 : INT64_MAX;
  std::string output;
  bool timedOut = false;
  for (;;) {
    int64_t left = deadline - monotonicMs();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    pollfd p = {out[0], POLLIN, 0};
    int r = poll(&p, 1, left > INT_MAX ? -1 : static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 65536) output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  if (timedOut) kill(pid, SIGKILL);
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  if (timedOut) {
    *err = "did not finish within its timeout of " + std::to_string(h.timeout) + "s";
    return false;
  }
  if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) return true;
  *err = WIFEXITED(ws) ? "exited with status " + std::to_string(WEXITSTATUS(ws)) : "was killed by signal " + std::to_string(WTERMSIG(ws));
  std::string tail = trim(output.size() > 2000 ? output.substr(output.size() - 2000) : output);
  if (!tail.empty()) *err += ": " + tail;
  return false;
}

}  // namespace

bool runHooks(const ContainerConfig& c, const std::string& stage, const char* status, int pid, std::string* err) {
  std::string state;
  for (const auto& h : c.hooks) {
    if (h.stage != stage) continue;
    if (state.empty()) state = stateJson(c, status, pid);
    std::string why;
    if (!runHook(h, state, &why)) {
      *err = "the " + stage + " hook " + h.path + " " + why;
      return false;
    }
  }
  return true;
}

int hostPidOfSelf() {
  char buf[32];
  ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = 0;
  return atoi(buf);
}

}  // namespace berth

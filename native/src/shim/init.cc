#include "init.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace berth {

void failChild(int errFd, int code, const std::string& message) {
  std::string s = std::to_string(code) + " " + message;
  ssize_t n = write(errFd, s.data(), s.size());
  (void)n;
  _exit(code);
}

void execOrReport(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env,
                  int errFd) {
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(path.c_str(), argv.data(), envp.data());
  int code = errno == ENOENT ? 127 : 126;
  failChild(errFd, code, "exec: \"" + args[0] + "\": " + strerror(errno));
}

void runInit(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env,
             int errFd, bool tty) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) failChild(errFd, 125, std::string("fork: ") + strerror(errno));
  if (child == 0) {
    setpgid(0, 0);
    if (tty) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(0, getpid());
      signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execOrReport(path, args, env, errFd);
  }
  close(errFd);
  prctl(PR_SET_NAME, "berth-init", 0, 0, 0);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
      if (w != child) continue;
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

}  // namespace berth

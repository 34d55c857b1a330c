#include "in-root.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

namespace berth {

namespace {

std::string relative(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  return start == std::string::npos ? "." : path.substr(start);
}

int openat2With(int rootfd, const std::string& path, int flags, mode_t mode, unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  // The kernel refuses a mode without O_CREAT or O_TMPFILE.
  if (flags & (O_CREAT | __O_TMPFILE)) how.mode = mode;
  how.resolve = resolve;
  std::string rel = relative(path);
  for (;;) {
    int fd = static_cast<int>(syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) return fd;  // EAGAIN: a rename raced the lookup; try again
  }
}

}  // namespace

int openInRoot(int rootfd, const std::string& path, int flags, mode_t mode) {
  return openat2With(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int openBeneath(int rootfd, const std::string& rel, int flags, mode_t mode) {
  return openat2With(rootfd, rel, flags, mode, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

}  // namespace berth

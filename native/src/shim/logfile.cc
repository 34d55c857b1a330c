#include "logfile.h"

#include <fcntl.h>
#include <unistd.h>

#include "../common/fsutil.h"

namespace berth {

bool LogFile::open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  return fd_ >= 0;
}

void LogFile::write(const char* stream, const char* data, size_t len) {
  if (fd_ < 0 || len == 0) return;
  std::string time = isoTimeNow();
  std::string out;
  size_t i = 0;
  // One entry per line, as json-file does; a trailing partial line is its own entry.
  while (i < len) {
    size_t j = i;
    while (j < len && data[j] != '\n') j++;
    if (j < len) j++;
    out += "{\"log\":\"" + jsonEscape(std::string(data + i, j - i)) + "\",\"stream\":\"" + stream +
           "\",\"time\":\"" + time + "\"}\n";
    i = j;
  }
  ssize_t n = ::write(fd_, out.data(), out.size());
  (void)n;
}

LogFile::~LogFile() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace berth

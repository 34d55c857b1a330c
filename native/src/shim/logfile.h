// The container's log in docker's json-file format, one JSON object per line:
// {"log":"...\n","stream":"stdout","time":"RFC3339Nano"}. `berth logs` and
// docker-aware tools read it back.
#pragma once
#include <string>

namespace berth {

class LogFile {
 public:
  bool open(const std::string& path);
  void write(const char* stream, const char* data, size_t len);
  ~LogFile();

 private:
  int fd_ = -1;
};

}  // namespace berth

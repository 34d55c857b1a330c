// Reading a tar stream (ustar, pax and GNU long names) entry by entry:
// header blocks are checked (checksum, end-of-archive blocks) and pax and
// long-name records are folded into the entry they describe. What to do
// with an entry, safely, is untar.cc's.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace berth {

struct TarHeader {
  std::string name, linkname;
  char type = '0';
  unsigned mode = 0644;
  unsigned uid = 0, gid = 0;
  uint64_t size = 0;
  int64_t mtime = 0;
  unsigned devmajor = 0, devminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class TarReader {
 public:
  enum class Next { Entry, End, Error };

  explicit TarReader(int fd) : fd_(fd) {}
  // Called with the bytes read so far every 8 MB.
  void setProgress(std::function<void(uint64_t)> p) { progress_ = std::move(p); }
  // The next file entry's header; its data follows (read, then skip the padding).
  Next next(TarHeader* h, std::string* err);
  // Reads exactly n bytes (false at EOF).
  bool read(char* out, size_t n);
  bool skip(uint64_t n);
  static uint64_t padded(uint64_t size) { return (size + 511) & ~uint64_t(511); }

 private:
  int fd_;
  char buf_[1 << 20];
  size_t pos_ = 0, len_ = 0;
  uint64_t total_ = 0, reported_ = 0;
  std::function<void(uint64_t)> progress_;
};

}  // namespace berth

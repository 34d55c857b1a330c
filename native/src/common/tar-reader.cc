#include "tar-reader.h"

#include <errno.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace berth {

namespace {


uint64_t octal(const char* p, size_t n) {
  // GNU base-256 for large values.
  if (static_cast<unsigned char>(p[0]) & 0x80) {
    uint64_t v = static_cast<unsigned char>(p[0]) & 0x7f;
    for (size_t i = 1; i < n; i++) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == 0)) i++;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + static_cast<uint64_t>(p[i] - '0');
  return v;
}

std::string field(const char* p, size_t n) {
  size_t len = strnlen(p, n);
  return std::string(p, len);
}

void applyPax(const std::string& data, TarHeader* h, bool* sawPath, bool* sawLink) {
  size_t i = 0;
  while (i < data.size()) {
    size_t sp = data.find(' ', i);
    if (sp == std::string::npos) break;
    size_t len = strtoul(data.c_str() + i, nullptr, 10);
    if (len == 0 || i + len > data.size()) break;
    std::string kv = data.substr(sp + 1, len - (sp - i) - 2);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) {
      std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (k == "path") h->name = v, *sawPath = true;
      else if (k == "linkpath") h->linkname = v, *sawLink = true;
      else if (k == "size") h->size = strtoull(v.c_str(), nullptr, 10);
      else if (k == "uid") h->uid = static_cast<unsigned>(strtoul(v.c_str(), nullptr, 10));
      else if (k == "gid") h->gid = static_cast<unsigned>(strtoul(v.c_str(), nullptr, 10));
      else if (k == "mtime") h->mtime = strtoll(v.c_str(), nullptr, 10);
      else if (k.compare(0, 13, "SCHILY.xattr.") == 0) h->xattrs.emplace_back(k.substr(13), v);
    }
    i += len;
  }
}

}  // namespace

bool TarReader::read(char* out, size_t n) {
  while (n > 0) {
    if (pos_ == len_) {
      ssize_t r = ::read(fd_, buf_, sizeof buf_);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      pos_ = 0;
      len_ = static_cast<size_t>(r);
      total_ += len_;
      if (progress_ && total_ - reported_ >= (8u << 20)) {
        reported_ = total_;
        progress_(total_);
      }
    }
    size_t k = std::min(n, len_ - pos_);
    memcpy(out, buf_ + pos_, k);
    pos_ += k;
    out += k;
    n -= k;
  }
  return true;
}

bool TarReader::skip(uint64_t n) {
  char tmp[65536];
  while (n > 0) {
    size_t k = n > sizeof tmp ? sizeof tmp : static_cast<size_t>(n);
    if (!read(tmp, k)) return false;
    n -= k;
  }
  return true;
}

TarReader::Next TarReader::next(TarHeader* out, std::string* err) {
  std::string longName, longLink;
  TarHeader pax;
  bool paxPath = false, paxLink = false, havePax = false;
  char block[512];
  int zeros = 0;
  for (;;) {
    if (!read(block, 512)) {
      // A tar ends with zero blocks; one that stops before them was cut off
      // (GNU tar accepts a lone zero block, and so does this).
      if (zeros > 0) return Next::End;
      *err = "is truncated: it ends without tar's end-of-archive blocks; fetch or save it again";
      return Next::Error;
    }
    bool allZero = true;
    for (char c : block) allZero = allZero && c == 0;
    if (allZero) {
      if (++zeros == 2) return Next::End;
      continue;
    }
    zeros = 0;
    // Verify the header checksum: a corrupt or non-tar file stops here.
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
    if (sum != octal(block + 148, 8)) {
      *err = "is not a valid tar archive (bad header checksum)";
      return Next::Error;
    }
    TarHeader h;
    h.type = block[156] ? block[156] : '0';
    h.size = octal(block + 124, 12);
    if (h.type == 'x' || h.type == 'g' || h.type == 'L' || h.type == 'K') {
      std::string body(h.size, '\0');
      if (!read(&body[0], h.size) || !skip(padded(h.size) - h.size)) {
        *err = "is truncated";
        return Next::Error;
      }
      if (h.type == 'L') longName = field(body.data(), body.size());
      else if (h.type == 'K') longLink = field(body.data(), body.size());
      else if (h.type == 'x') {
        pax = TarHeader();
        applyPax(body, &pax, &paxPath, &paxLink);
        havePax = true;
      }
      continue;
    }
    h.name = field(block, 100);
    if (memcmp(block + 257, "ustar", 5) == 0 && block[345]) h.name = field(block + 345, 155) + "/" + h.name;
    h.linkname = field(block + 157, 100);
    h.mode = static_cast<unsigned>(octal(block + 100, 8)) & 07777;
    h.uid = static_cast<unsigned>(octal(block + 108, 8));
    h.gid = static_cast<unsigned>(octal(block + 116, 8));
    h.mtime = static_cast<int64_t>(octal(block + 136, 12));
    h.devmajor = static_cast<unsigned>(octal(block + 329, 8));
    h.devminor = static_cast<unsigned>(octal(block + 337, 8));
    if (!longName.empty()) h.name = longName;
    if (!longLink.empty()) h.linkname = longLink;
    if (havePax) {
      if (paxPath) h.name = pax.name;
      if (paxLink) h.linkname = pax.linkname;
      if (pax.size) h.size = pax.size;
      if (pax.uid) h.uid = pax.uid;
      if (pax.gid) h.gid = pax.gid;
      if (pax.mtime) h.mtime = pax.mtime;
      h.xattrs = pax.xattrs;
    }
    *out = std::move(h);
    return Next::Entry;
  }
}

}  // namespace berth

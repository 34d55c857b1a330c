#include "untar.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "fsutil.h"
#include "tar-reader.h"

namespace berth {

namespace {

// Splits "a/./b//c" into components; refuses absolute names and "..".
bool components(const std::string& name, std::vector<std::string>* out, std::string* err) {
  if (!name.empty() && name[0] == '/') {
    *err = "layer entry \"" + name + "\" has an absolute path; refusing to unpack it";
    return false;
  }
  out->clear();
  for (const auto& c : split(name, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      *err = "layer entry \"" + name + "\" points outside the layer (\"..\"); refusing to unpack it";
      return false;
    }
    out->push_back(c);
  }
  return true;
}

class Tree {
 public:
  explicit Tree(int root) : root_(root) {}
  ~Tree() {
    for (auto& kv : cache_) close(kv.second);
  }
  // Opens the directory holding the last component, creating missing
  // directories; never follows a symlink.
  int parent(const std::vector<std::string>& parts, const std::string& name, std::string* err) {
    std::string key;
    for (size_t i = 0; i + 1 < parts.size(); i++) key += parts[i] + "/";
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    int fd = fcntl(root_, F_DUPFD_CLOEXEC, 0);  // never leak into a shim spawned meanwhile
    std::string walked;
    for (size_t i = 0; i + 1 < parts.size(); i++) {
      walked += (walked.empty() ? "" : "/") + parts[i];
      int next = openat(fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT) {
        mkdirat(fd, parts[i].c_str(), 0755);
        next = openat(fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (next < 0) {
        int e = errno;
        close(fd);
        struct stat st;
        if ((e == ELOOP || e == ENOTDIR) && fstatat(root_, walked.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
          *err = "layer entry \"" + name + "\" would be written through the symlink \"" + walked + "\"; refusing to unpack it";
        else
          *err = "layer entry \"" + name + "\" is below \"" + walked + "\", which is not a directory";
        return -1;
      }
      close(fd);
      fd = next;
    }
    if (cache_.size() > 256) {
      for (auto& kv : cache_) close(kv.second);
      cache_.clear();
    }
    cache_[key] = fd;
    return fd;
  }
  // A replaced path may have been a directory on the way to others.
  void forget() {
    for (auto& kv : cache_) close(kv.second);
    cache_.clear();
  }

 private:
  int root_;
  std::map<std::string, int> cache_;
};

// Removes whatever is at name, as the entry replacing it requires.
bool removeAt(int dirfd, const char* name) { return removeTreeAt(dirfd, name); }

struct DirTime {
  std::vector<std::string> parts;
  int64_t mtime;
};

}  // namespace

std::string untar(const std::string& tarPath, const std::string& dest, const std::function<void(uint64_t)>& progress,
                  const UntarOptions& options) {
  int tfd = open(tarPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (tfd < 0) return "cannot open layer " + tarPath + ": " + strerror(errno);
  return untarFd(tfd, tarPath, dest, progress, options);
}

std::string untarFd(int tfd, const std::string& tarPath, const std::string& dest, const std::function<void(uint64_t)>& progress,
                    const UntarOptions& options) {
  const char* opaqueXattr = options.rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
  mkdirAll(dest, 0755);
  int root = open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    close(tfd);
    return "cannot open " + dest + ": " + strerror(errno);
  }
  TarReader r(tfd);
  r.setProgress(progress);
  Tree tree(root);
  std::string err;
  std::vector<DirTime> dirTimes;
  int64_t rootTime = -1;
  auto fail = [&](const std::string& m) {
    close(tfd);
    close(root);
    return m;
  };
  for (;;) {
    TarHeader h;
    TarReader::Next next = r.next(&h, &err);
    if (next == TarReader::Next::End) break;
    if (next == TarReader::Next::Error) return fail("layer " + tarPath + " " + err);
    uint64_t padded = TarReader::padded(h.size);
    std::vector<std::string> parts;
    if (!components(h.name, &parts, &err)) return fail(err);
    if (parts.empty()) {
      // "./": the layer's own root directory takes its attributes.
      if (h.type == '5') {
        if (fchown(root, h.uid, h.gid) != 0) {}
        fchmod(root, h.mode);
        rootTime = h.mtime;
      }
      if (!r.skip(padded)) return fail("layer " + tarPath + " is truncated");
      continue;
    }
    int dir = tree.parent(parts, h.name, &err);
    if (dir < 0) return fail(err);
    const std::string& base = parts.back();
    const char* bn = base.c_str();
    struct timespec times[2] = {{h.mtime, 0}, {h.mtime, 0}};
    if (base == ".wh..wh..opq") {
      const char y = 'y';
      if (fsetxattr(dir, opaqueXattr, &y, 1, 0) != 0) return fail("setting the opaque marker for \"" + h.name + "\": " + strerror(errno));
      r.skip(padded);
      continue;
    }
    if (base.compare(0, 4, ".wh.") == 0) {
      std::string hidden = base.substr(4);
      // ".wh..." would whiteout "..": the directory holding the snapshot.
      if (hidden.empty() || hidden == "." || hidden == "..")
        return fail("layer entry \"" + h.name + "\" is a whiteout of \"" + hidden + "\", which is not a file name; refusing to unpack it");
      removeAt(dir, hidden.c_str());
      tree.forget();
      dir = tree.parent(parts, h.name, &err);
      if (dir < 0) return fail(err);
      if (mknodat(dir, hidden.c_str(), S_IFCHR, makedev(0, 0)) != 0) return fail("whiteout for \"" + h.name + "\": " + strerror(errno));
      r.skip(padded);
      continue;
    }
    switch (h.type) {
      case '5': {
        struct stat st;
        if (fstatat(dir, bn, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
          unlinkat(dir, bn, 0);
          tree.forget();
          dir = tree.parent(parts, h.name, &err);
        }
        if (mkdirat(dir, bn, 0755) != 0 && errno != EEXIST) return fail("mkdir \"" + h.name + "\": " + strerror(errno));
        fchownat(dir, bn, h.uid, h.gid, AT_SYMLINK_NOFOLLOW);
        fchmodat(dir, bn, h.mode, 0);
        dirTimes.push_back({parts, h.mtime});
        break;
      }
      case '0':
      case '7': {
        int fd = openat(dir, bn, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && (errno == ELOOP || errno == EISDIR)) {
          removeAt(dir, bn);
          tree.forget();
          dir = tree.parent(parts, h.name, &err);
          fd = openat(dir, bn, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0) return fail("create \"" + h.name + "\": " + strerror(errno));
        uint64_t left = h.size;
        char buf[65536];
        while (left > 0) {
          size_t k = left > sizeof buf ? sizeof buf : static_cast<size_t>(left);
          if (!r.read(buf, k)) {
            close(fd);
            return fail("layer " + tarPath + " is truncated in \"" + h.name + "\"");
          }
          // A short write is not an error by itself: write the rest, and a
          // full disk then says ENOSPC (not some earlier call's errno).
          for (size_t done = 0; done < k;) {
            ssize_t w = write(fd, buf + done, k - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
              int e = w < 0 ? errno : ENOSPC;
              close(fd);
              return fail("write \"" + h.name + "\": " + strerror(e));
            }
            done += static_cast<size_t>(w);
          }
          left -= k;
        }
        r.skip(padded - h.size);
        if (fchown(fd, h.uid, h.gid) != 0) {}
        fchmod(fd, h.mode);  // after chown, which clears setuid bits
        for (const auto& x : h.xattrs) fsetxattr(fd, x.first.c_str(), x.second.data(), x.second.size(), 0);
        futimens(fd, times);
        close(fd);
        continue;
      }
      case '2':
        removeAt(dir, bn);
        tree.forget();
        dir = tree.parent(parts, h.name, &err);
        if (symlinkat(h.linkname.c_str(), dir, bn) != 0) return fail("symlink \"" + h.name + "\": " + strerror(errno));
        fchownat(dir, bn, h.uid, h.gid, AT_SYMLINK_NOFOLLOW);
        utimensat(dir, bn, times, AT_SYMLINK_NOFOLLOW);
        break;
      case '1': {
        std::vector<std::string> lparts;
        if (!components(h.linkname, &lparts, &err) || lparts.empty()) return fail(err.empty() ? "bad hard link in \"" + h.name + "\"" : err);
        int ldir = tree.parent(lparts, h.linkname, &err);
        if (ldir < 0) return fail(err);
        int ldup = fcntl(ldir, F_DUPFD_CLOEXEC, 0);
        removeAt(dir, bn);
        if (linkat(ldup, lparts.back().c_str(), dir, bn, 0) != 0) {
          int e = errno;
          close(ldup);
          return fail("layer entry \"" + h.name + "\" links to \"" + h.linkname + "\", which the layer does not contain (" + strerror(e) + ")");
        }
        close(ldup);
        break;
      }
      case '3':
      case '4':
      case '6': {
        removeAt(dir, bn);
        mode_t kind = h.type == '3' ? S_IFCHR : h.type == '4' ? S_IFBLK : S_IFIFO;
        if (mknodat(dir, bn, kind | h.mode, makedev(h.devmajor, h.devminor)) != 0) {
          if (errno == EPERM && options.rootless && kind != S_IFIFO) {
            r.skip(padded);
            continue;
          }
          return fail("mknod \"" + h.name + "\": " + strerror(errno));
        }
        fchownat(dir, bn, h.uid, h.gid, AT_SYMLINK_NOFOLLOW);
        fchmodat(dir, bn, h.mode, 0);  // mknod's mode went through the umask
        utimensat(dir, bn, times, AT_SYMLINK_NOFOLLOW);
        break;
      }
      default:
        break;  // unknown types are skipped, as GNU tar warns and goes on
    }
    if (!r.skip(padded)) return fail("layer " + tarPath + " is truncated");
  }
  // Directory times last: creating entries inside changed them.
  for (auto it = dirTimes.rbegin(); it != dirTimes.rend(); ++it) {
    int dir = tree.parent(it->parts, "", &err);
    if (dir < 0) continue;
    struct timespec t[2] = {{it->mtime, 0}, {it->mtime, 0}};
    utimensat(dir, it->parts.back().c_str(), t, AT_SYMLINK_NOFOLLOW);
  }
  if (rootTime >= 0) {
    struct timespec t[2] = {{rootTime, 0}, {rootTime, 0}};
    futimens(root, t);
  }
  // From a pipe, the writer may still be sending the archive's zero padding:
  // read it to the end, so the writer never meets a closed pipe.
  struct stat st;
  if (fstat(tfd, &st) == 0 && S_ISFIFO(st.st_mode)) {
    char sink[65536];
    for (;;) {
      ssize_t n = read(tfd, sink, sizeof sink);
      if (n > 0 || (n < 0 && errno == EINTR)) continue;
      break;
    }
  }
  close(tfd);
  close(root);
  return "";
}

}  // namespace berth

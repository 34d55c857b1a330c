#include "mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "../common/fsutil.h"
#include "../common/in-root.h"

namespace berth {

namespace {

bool fail(std::string* err, const std::string& what) {
  *err = what + ": " + strerror(errno);
  return false;
}

// Returns an O_PATH fd for dest inside the root, creating what is missing:
// directories on the way, and a directory or an empty file at the end.
// Symlinks are expanded here, one component at a time, so that a dangling
// link in the image (/escape -> /host/dir) makes its target inside the root.
int ensureInRoot(int rootfd, const std::string& dest, bool wantDir, std::string* err) {
  std::vector<std::string> todo;
  for (const auto& p : split(dest, '/'))
    if (!p.empty() && p != ".") todo.push_back(p);
  std::string cur;
  int hops = 0;
  while (!todo.empty()) {
    std::string comp = todo.front();
    todo.erase(todo.begin());
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      cur = cur.substr(0, cur.rfind('/') == std::string::npos ? 0 : cur.rfind('/'));
      continue;
    }
    std::string next = cur + "/" + comp;
    int fd = openInRoot(rootfd, next, O_PATH | O_NOFOLLOW);
    if (fd >= 0) {
      struct stat st;
      bool link = fstat(fd, &st) == 0 && S_ISLNK(st.st_mode);
      char target[4096];
      ssize_t n = link ? readlinkat(fd, "", target, sizeof target - 1) : 0;
      close(fd);
      if (!link) {
        cur = next;
        continue;
      }
      if (n <= 0 || ++hops > 40) {
        *err = "resolving the mount point " + dest + ": too many levels of symbolic links";
        return -1;
      }
      target[n] = 0;
      std::vector<std::string> expanded;
      for (const auto& p : split(target, '/'))
        if (!p.empty()) expanded.push_back(p);
      todo.insert(todo.begin(), expanded.begin(), expanded.end());
      if (target[0] == '/') cur.clear();
      continue;
    }
    if (errno != ENOENT) {
      fail(err, "resolving the mount point " + dest);
      return -1;
    }
    int pfd = openInRoot(rootfd, cur.empty() ? "/" : cur, O_PATH | O_DIRECTORY);
    if (pfd < 0) {
      fail(err, "resolving the mount point " + dest);
      return -1;
    }
    int rc;
    if (todo.empty() && !wantDir) {
      rc = openat(pfd, comp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (rc >= 0) close(rc);
    } else {
      rc = mkdirat(pfd, comp.c_str(), 0755);
    }
    close(pfd);
    if (rc < 0 && errno != EEXIST) {
      if (errno == EROFS) {
        *err = "cannot create the mount point " + dest + " in a read-only root filesystem: use an image that has it, or drop --read-only";
      } else {
        fail(err, "creating the mount point " + dest);
      }
      return -1;
    }
    cur = next;
  }
  int fd = openInRoot(rootfd, cur.empty() ? "/" : cur, O_PATH);
  if (fd < 0) fail(err, "resolving the mount point " + dest);
  return fd;
}

std::string fdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool dirIsEmpty(int dirfd) {
  int d = dup(dirfd);
  DIR* dir = fdopendir(d);
  if (!dir) {
    close(d);
    return false;
  }
  bool empty = true;
  while (struct dirent* e = readdir(dir)) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      empty = false;
      break;
    }
  }
  closedir(dir);
  return empty;
}

bool copyFile(int from, int to) {
  for (;;) {
    ssize_t n = copy_file_range(from, nullptr, to, nullptr, 1 << 20, 0);
    if (n == 0) return true;
    if (n > 0) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS) return false;
    char buf[65536];
    for (;;) {
      ssize_t r = read(from, buf, sizeof buf);
      if (r == 0) return true;
      if (r < 0) return false;
      if (write(to, buf, static_cast<size_t>(r)) != r) return false;
    }
  }
}

// Copies the tree under src into dst, never following a symlink; owners
// and modes are kept. Sockets and devices are left out.
bool copyTree(int src, int dst, std::string* err) {
  int d = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = d >= 0 ? fdopendir(d) : nullptr;
  if (!dir) {
    if (d >= 0) close(d);
    return fail(err, "reading the image's files for a new volume");
  }
  bool ok = true;
  while (struct dirent* e = readdir(dir)) {
    const char* name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dst, name, 0700) != 0 && errno != EEXIST) ok = fail(err, std::string("copying ") + name);
      int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int t = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (ok && s >= 0 && t >= 0) ok = copyTree(s, t, err);
      if (t >= 0) {
        fchown(t, st.st_uid, st.st_gid);
        fchmod(t, st.st_mode & 07777);
      }
      if (s >= 0) close(s);
      if (t >= 0) close(t);
    } else if (S_ISREG(st.st_mode)) {
      int s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int t = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (s < 0 || t < 0 || !copyFile(s, t)) ok = fail(err, std::string("copying ") + name);
      if (t >= 0) {
        fchown(t, st.st_uid, st.st_gid);
        fchmod(t, st.st_mode & 07777);
        close(t);
      }
      if (s >= 0) close(s);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlinkat(src, name, target, sizeof target - 1);
      if (n >= 0) {
        target[n] = 0;
        if (symlinkat(target, dst, name) == 0) fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      }
    }
    if (!ok) break;
  }
  closedir(dir);
  return ok;
}

// Splits tmpfs options into mount flags and the data tmpfs itself reads.
// Like docker's --tmpfs: nosuid, nodev and noexec unless asked otherwise.
void tmpfsOptions(const std::string& opts, unsigned long* flags, std::string* data) {
  *flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  for (const auto& o : split(opts, ',')) {
    if (o.empty() || o == "rw" || o == "nodev" || o == "dev") continue;  // always nodev
    if (o == "ro") *flags |= MS_RDONLY;
    else if (o == "exec") *flags &= ~static_cast<unsigned long>(MS_NOEXEC);
    else if (o == "noexec") *flags |= MS_NOEXEC;
    else if (o == "suid") *flags &= ~static_cast<unsigned long>(MS_NOSUID);
    else if (o == "nosuid") *flags |= MS_NOSUID;
    else if (o == "sync") *flags |= MS_SYNCHRONOUS;
    else if (o == "noatime") *flags |= MS_NOATIME;
    else *data += (data->empty() ? "" : ",") + o;
  }
}

// The mount's source as an O_PATH fd: a host path the user named, or a
// path inside its own root (a build's context or stage), resolved there.
int openSource(const ContainerConfig::Mount& m) {
  if (m.sourceRoot.empty()) return open(m.source.c_str(), O_PATH | O_CLOEXEC);
  int root = open(m.sourceRoot.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  int fd = openInRoot(root, m.source, O_PATH);
  int saved = errno;
  close(root);
  errno = saved;
  return fd;
}

bool bindMount(int rootfd, const ContainerConfig::Mount& m, std::string* err) {
  int src = openSource(m);
  if (src < 0) return fail(err, "opening the mount source " + m.source);
  struct stat st;
  fstat(src, &st);
  bool isDir = S_ISDIR(st.st_mode);
  int target = ensureInRoot(rootfd, m.dest, isDir, err);
  bool ok = target >= 0;
  if (ok && m.type == "volume" && m.copyUp && isDir) {
    // A new, empty volume takes the image's files at its mount point (and
    // the directory's owner and mode), as docker does.
    int imageDir = openInRoot(rootfd, m.dest, O_RDONLY | O_DIRECTORY);
    int volDir = open(m.source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (imageDir >= 0 && volDir >= 0 && dirIsEmpty(volDir) && !dirIsEmpty(imageDir)) {
      struct stat ist;
      if (fstat(imageDir, &ist) == 0) {
        fchown(volDir, ist.st_uid, ist.st_gid);
        fchmod(volDir, ist.st_mode & 07777);
      }
      ok = copyTree(imageDir, volDir, err);
    }
    if (imageDir >= 0) close(imageDir);
    if (volDir >= 0) close(volDir);
  }
  if (ok && mount(fdPath(src).c_str(), fdPath(target).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    ok = fail(err, "mounting " + m.source + " on " + m.dest);
  }
  if (target >= 0) close(target);
  close(src);
  if (!ok) return false;
  // The remount applies to the new mount, so reopen its path to reach it.
  // Bind mounts are nodev like every other writable mount (see rootfs.cc).
  int mounted = openInRoot(rootfd, m.dest, O_PATH);
  if (mounted < 0) return fail(err, "reopening " + m.dest);
  // A remount may not clear what the source mount has (a user namespace
  // locks those flags), so nosuid, noexec and the atime mode carry over.
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_NODEV | (m.readonly ? MS_RDONLY : 0);
  struct statvfs sv;
  if (fstatvfs(mounted, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  }
  ok = mount(nullptr, fdPath(mounted).c_str(), nullptr, flags, nullptr) == 0 || fail(err, "remounting " + m.dest);
  close(mounted);
  return ok;
}

bool tmpfsMount(int rootfd, const ContainerConfig::Mount& m, std::string* err) {
  int target = ensureInRoot(rootfd, m.dest, true, err);
  if (target < 0) return false;
  unsigned long flags;
  std::string data;
  tmpfsOptions(m.data, &flags, &data);
  if (m.readonly) flags |= MS_RDONLY;
  bool ok = mount("tmpfs", fdPath(target).c_str(), "tmpfs", flags, data.empty() ? nullptr : data.c_str()) == 0 ||
            fail(err, "mounting a tmpfs on " + m.dest + (data.empty() ? "" : " (" + data + ")"));
  close(target);
  return ok;
}

}  // namespace

bool setupMounts(const std::string& root, const ContainerConfig& c, std::string* err) {
  if (c.mounts.empty()) return true;
  int rootfd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(err, "opening the container root");
  bool ok = true;
  for (const auto& m : c.mounts) {
    ok = m.type == "tmpfs" ? tmpfsMount(rootfd, m, err) : bindMount(rootfd, m, err);
    if (!ok) break;
  }
  close(rootfd);
  return ok;
}

}  // namespace berth

// A tar extractor for layer tarballs (ustar, pax and GNU long names) that
// cannot write outside its target: every path is walked from the target's
// directory fd one component at a time with O_NOFOLLOW, so ".." and
// absolute names are refused and a symlink the layer made is never
// followed. OCI whiteouts become overlayfs whiteouts.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace berth {

// Rootless stores are unpacked inside the user's namespace: overlayfs reads
// their opaque markers from user.overlay.* (it is mounted with userxattr
// there), and device nodes, which no user namespace may make, are left out
// (containers get their /dev from the runtime, never from a layer).
struct UntarOptions {
  bool rootless = false;
};

// Returns "" on success, else a message naming the offending entry.
// progress, when given, is called with the bytes read so far every few MB.
std::string untar(const std::string& tarPath, const std::string& dest,
                  const std::function<void(uint64_t)>& progress = nullptr, const UntarOptions& options = {});

// The same from an open descriptor (a file or a pipe's read end), which it
// closes; name is what messages call the layer.
std::string untarFd(int fd, const std::string& name, const std::string& dest,
                    const std::function<void(uint64_t)>& progress = nullptr, const UntarOptions& options = {});

}  // namespace berth

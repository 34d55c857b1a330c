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

// Returns "" on success, else a message naming the offending entry.
// progress, when given, is called with the bytes read so far every few MB.
std::string untar(const std::string& tarPath, const std::string& dest,
                  const std::function<void(uint64_t)>& progress = nullptr);

}  // namespace berth

// The one path resolver: every path that comes from an image, a build
// context, a stage, a volume or a user is opened relative to an open root
// directory by the kernel (openat2), never by joining strings. Shared by
// the shim (mount sources and targets) and the addon (builds, cp).
#pragma once
#include <string>
#include <sys/types.h>

namespace berth {

// Opens path as if rootfd were "/": "..", absolute symlinks and all stay
// inside the root (RESOLVE_IN_ROOT). -1 with errno set on failure.
int openInRoot(int rootfd, const std::string& path, int flags, mode_t mode = 0);

// Opens rel below rootfd without following any symlink on the way
// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): for paths already resolved, in
// directories that someone else may have filled with links. With
// O_PATH | O_NOFOLLOW a final symlink is opened itself, not followed.
int openBeneath(int rootfd, const std::string& rel, int flags, mode_t mode = 0);

}  // namespace berth

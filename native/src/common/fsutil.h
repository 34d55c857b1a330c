// Small file helpers shared by the addon and the shim. Plain syscalls, no
// iostreams: the shim stays small enough to keep ~1 MiB RSS per container.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace berth {

bool readFile(const std::string& path, std::string* out);
// Writes the whole string; used for cgroup control files where a short write is an error.
bool writeFile(const std::string& path, const std::string& data, int* errnum = nullptr);
// Write to path.tmp then rename, so readers never see a half-written file.
bool writeFileAtomic(const std::string& path, const std::string& data);
bool exists(const std::string& path);
// Writes all of data to fd (a pipe or terminal), retrying on EINTR; false once the peer is gone.
bool writeAll(int fd, const char* data, size_t len);
// Milliseconds of CLOCK_MONOTONIC, for the shim's drain deadlines.
int64_t monotonicMs();
bool mkdirAll(const std::string& path, unsigned mode);
// Removes a tree without following symlinks; missing is success.
bool removeTree(const std::string& path);
// The same, for name inside the directory dirfd (never following a symlink).
bool removeTreeAt(int dirfd, const char* name);
// Parses a decimal that may be "max" (returns -1 then).
int64_t parseInt64(const std::string& s, int64_t fallback);
std::string trim(const std::string& s);
std::vector<std::string> splitLines(const std::string& s);
// Splits on sep, keeping empty fields ("a::b" -> a, "", b).
std::vector<std::string> split(const std::string& s, char sep);
// Splits on runs of spaces and tabs.
std::vector<std::string> words(const std::string& s);
std::string jsonEscape(const std::string& s);
// RFC 3339 UTC time with nanoseconds, the form docker writes in logs and inspect.
std::string isoTimeNow();
// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat),
// used with the pid to tell a live container from a recycled pid. 0 if gone.
uint64_t processStartTime(int pid);

}  // namespace berth

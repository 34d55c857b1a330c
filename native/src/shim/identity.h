// Who the container process runs as, resolved from the container's own
// /etc/passwd and /etc/group (never the host's), and which file it executes.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace berth {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string home = "/";
};

// spec is docker's -u: "", "name", "uid", "name:group", "uid:gid".
bool resolveIdentity(const std::string& spec, Identity* id, std::string* err);
// Switches to the identity (groups, gid, uid). Capabilities are handled apart.
bool applyIdentity(const Identity& id, std::string* err);
// Finds argv0 along PATH from the container's environment as runc does.
// Returns 0 and sets path, or 127 (not found) / 126 (not executable) with err.
int resolveExecutable(const std::string& argv0, const std::vector<std::string>& env, std::string* path,
                      std::string* err);
// Adds HOME and PATH when the image and -e gave none, as docker does.
void completeEnvironment(std::vector<std::string>* env, const Identity& id);

}  // namespace berth

// `berth-shim run CONFIG`: creates one container and supervises it for its
// whole life. The engine passes the attached client's stdin/stdout/stderr as
// fds 0-2 and a status pipe as fd 3 (status.h says what it carries).
#pragma once

namespace berth {

int runContainer(const char* configPath);

}  // namespace berth

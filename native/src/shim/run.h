// `berth-shim run CONFIG`: creates one container and supervises it for its
// whole life. The engine passes the attached client's stdin/stdout/stderr as
// fds 0-2 and a status pipe as fd 3, on which the shim reports
//   started PID | error CODE MESSAGE     (once)
//   exited CODE OOMKILLED                (at the end)
// When the client closes fd 3 the shim detaches and keeps logging.
#pragma once

namespace berth {

int runContainer(const char* configPath);

}  // namespace berth

// berth-shim: one small single-threaded process per container (see run.h),
// or per exec'd process (see exec.h). The Node engine never does namespace
// work itself: Node is multi-threaded and setns/unshare act on one thread.
#include <cstdio>
#include <cstring>

#include "exec.h"
#include "rootless.h"
#include "run.h"

int main(int argc, char** argv) {
  if (argc == 3 && !strcmp(argv[1], "run")) return berth::runContainer(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "exec")) return berth::execInContainer(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "netattach")) return berth::attachNetwork(argv[2]);
  if (argc >= 3 && !strcmp(argv[1], "enter")) return berth::enterAndExec(argc - 2, argv + 2);
  if (argc >= 3 && !strcmp(argv[1], "netdel")) return berth::deleteRootlessLinks(argc - 2, argv + 2);
  fprintf(stderr, "usage: berth-shim run|exec|netattach CONFIG, enter PROGRAM [ARGS...], netdel LINK...\n(berth-shim is started by the Berth engine.)\n");
  return 2;
}

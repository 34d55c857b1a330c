#!/bin/bash
# What only the benchmarks need: Debian's docker.io, for the docker anchors
# (bench/dockerd.ts starts a private engine in the benchmark's own network
# namespace). Its packages would start dockerd and containerd on this
# machine's own network; a policy-rc.d that says no keeps them stopped.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "bench-setup: run as root to install docker.io" >&2; exit 0; }
command -v dockerd >/dev/null && exit 0
made=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  made=1
fi
trap 'if [ -n "$made" ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >/dev/null

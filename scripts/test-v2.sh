#!/usr/bin/env bash
# npm run test:v2: the tests that touch cgroups, limits or figures, run
# again in a pure cgroup v2 guest (scripts/v2-guest), inside a network
# namespace of their own there as on this machine. Fails, never passes
# silently, when the guest cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(cgroup-limits cgroup-delegation run lifecycle security limits-refused records zz-cleanup)
list=""
for f in "${files[@]}"; do list="$list dist/test/$f.test.js"; done
start=$(date +%s)
bash scripts/v2-guest/run-in-guest.sh "
M=\$(readlink /proc/self/ns/net)
exec unshare --net -- sh -c 'ip link set lo up && exec \"\$@\"' sh env BERTH_TEST_NETNS=1 BERTH_MACHINE_NETNS=\$M node --test --test-concurrency=1 $list
"
echo "[test:v2] the cgroup v2 tier passed in the guest in $(($(date +%s) - start)) s"

#!/usr/bin/env bash
# npm run test:v2: the tests that touch cgroups, limits or figures, then
# notebook 03 (the lesson that shows limits), run again in a pure cgroup v2
# guest (scripts/v2-guest), inside a network namespace of their own there
# as on this machine, with the cleanup check last. Fails, never passes
# silently, when the guest cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(cgroup-limits cgroup-delegation rootless-v2 run lifecycle security devices limits-refused records)
list=""
for f in "${files[@]}"; do list="$list dist/test/$f.test.js"; done
bash scripts/v2-guest/make-guest.sh
start=$(date +%s)
cat > build/v2-guest/suite.sh <<SUITE
set -e
ip link set lo up
export BERTH_TEST_NETNS=1 BERTH_MACHINE_NETNS=\$1
node --test --test-concurrency=1 $list
BERTH_NOTEBOOKS=03 node --test --test-concurrency=1 dist/test/notebooks.test.js
node --test --test-concurrency=1 dist/test/zz-cleanup.test.js
SUITE
bash scripts/v2-guest/run-in-guest.sh 'exec unshare --net -- sh build/v2-guest/suite.sh "$(readlink /proc/self/ns/net)"'
echo "[test:v2] the cgroup v2 tier passed in the guest in $(($(date +%s) - start)) s"

// cgroup v2 delegation, as systemd hands a subtree to a user: inside the
// subtree that user (here nobody) makes cgroups, sets their limits and moves
// its own processes, and the kernel enforces them. The v2 guest prepares
// such a subtree (scripts/v2-guest/stage2.sh) and names it in
// BERTH_DELEGATED_CGROUP; rootless containers build on it. Elsewhere the
// suite has nothing to check and says so.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const delegated = process.env.BERTH_DELEGATED_CGROUP;

describe('a delegated cgroup v2 subtree', { skip: delegated ? false : 'no delegated subtree here (the v2 guest has one)' }, () => {
  it('lets an unprivileged user make a cgroup, limit its memory and be held to it, but not raise the subtree itself', () => {
    const d = delegated!;
    const leaf = path.join(d, `leaf-${process.pid}`);
    try {
      // The user's session starts in its own part of the subtree, as systemd places it.
      const r = spawnSync('sh', ['-c', `echo $$ > ${d}/session/cgroup.procs && exec runuser -u nobody -- sh -c '
        mkdir ${leaf} || exit 2
        echo 33554432 > ${leaf}/memory.max || exit 3
        echo 20 > ${leaf}/pids.max || exit 4
        if echo max > ${d}/memory.max 2>/dev/null; then exit 5; fi
        echo $$ > ${leaf}/cgroup.procs || exit 6
        head -c 200m /dev/zero | tail'`], { encoding: 'utf8', timeout: 120000 });
      assert.equal(r.status, 137, `${r.stdout}${r.stderr}`);
      assert.equal(fs.statSync(leaf).uid, 65534);
      assert.equal(fs.readFileSync(path.join(leaf, 'memory.max'), 'utf8').trim(), String(32 << 20));
      assert.match(fs.readFileSync(path.join(leaf, 'memory.events'), 'utf8'), /^oom_kill [1-9]/m);
    } finally {
      try {
        fs.rmdirSync(leaf);
      } catch {
        /* gone */
      }
    }
  });
});

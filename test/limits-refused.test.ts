// A limit the host cannot apply refuses the run; a figure the cgroup cannot
// give is "not measured". Each case runs the CLI in a private mount
// namespace where part of /sys/fs/cgroup is unmounted (as `ip netns exec`
// hides it by remounting /sys); the machine's own hierarchy is untouched.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cliPath, Result, TestStore, testStore } from './helpers';
import { native } from '../kernel/engine/native';

let s: TestStore;
before(async () => {
  s = await testStore('limits');
});
after(async () => {
  await s.cleanup();
});

const v1 = native().cgroupVersion() === 'v1';

// Runs berth with /sys/fs/cgroup/SUB (or the whole hierarchy) unmounted in a mount namespace of its own.
function without(sub: string, args: string[]): Result {
  const target = sub ? `/sys/fs/cgroup/${sub}` : '/sys/fs/cgroup';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', `umount -l ${target} && exec "$@"`, 'sh', process.execPath, cliPath, ...args], {
    env: s.env,
    encoding: 'utf8',
    timeout: 60000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function noContainersLeft(): void {
  assert.equal(s.berth(['ps', '-aq']).stdout.trim(), '');
}

describe('limits that cannot be applied are refused', () => {
  it('with no cgroup hierarchy at all, a run with -m is refused before it starts, and so is one without', () => {
    for (const extra of [['-m', '32m'], []]) {
      const r = without('', ['run', '--rm', '--network', 'none', ...extra, 'busybox', 'sh', '-c', 'echo started']);
      assert.equal(r.code, 125, r.stderr);
      assert.doesNotMatch(r.stdout, /started/);
      assert.match(r.stderr, /no cgroup hierarchy is mounted at \/sys\/fs\/cgroup.*nsenter --net/);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    }
    noContainersLeft();
  });

  const missing: Array<[string, string[], RegExp]> = [
    ['memory', ['-m', '32m'], /the memory cgroup controller is not available, so --memory cannot be applied/],
    ['cpu', ['--cpus', '0.5'], /the cpu cgroup controller is not available, so --cpus cannot be applied/],
    ['cpu', ['--cpu-shares', '512'], /the cpu cgroup controller is not available, so --cpu-shares cannot be applied/],
    ['pids', ['--pids-limit', '20'], /the pids cgroup controller is not available, so --pids-limit cannot be applied/],
  ];
  for (const [ctrl, flags, message] of missing) {
    it(`${flags.join(' ')} is refused where the ${ctrl} controller is missing (cgroup v1)`, { skip: !v1 && 'per-controller hierarchies are cgroup v1' }, () => {
      const r = without(ctrl, ['run', '--rm', '--network', 'none', ...flags, 'busybox', 'echo', 'started']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stdout, /started/);
      noContainersLeft();
    });
  }
});

describe('figures that cannot be read are not measured', () => {
  it('without cpuacct and memory a run still goes, and its record says "not measured", never 0', { skip: !v1 && 'per-controller hierarchies are cgroup v1' }, () => {
    const rec = path.join(s.root, 'records.jsonl');
    for (const ctrl of ['cpuacct', 'memory']) {
      const r = without(ctrl, ['run', '--rm', '--network', 'none', '--record', rec, 'busybox', 'echo', 'ran']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'ran\n');
    }
    const [noCpu, noMem] = fs.readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(noCpu.cpuSeconds, null);
    assert.equal(typeof noCpu.peakMemory, 'number');
    assert.equal(noMem.peakMemory, null);
    assert.equal(typeof noMem.cpuSeconds, 'number');
    const list = s.berth(['records', '--file', rec]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /not measured/);
    assert.doesNotMatch(list.stdout.split('\n')[1], /\b0B\b/);
    noContainersLeft();
  });

  it('stats says "not measured" for what the cgroup cannot give', { skip: !v1 && 'per-controller hierarchies are cgroup v1' }, () => {
    assert.equal(s.berth(['run', '-d', '--name', 'measured', '--network', 'none', 'busybox', 'sleep', '60']).code, 0);
    const r = without('memory', ['stats', '--no-stream', 'measured']);
    s.berth(['rm', '-f', 'measured']);
    assert.equal(r.code, 0, r.stderr);
    // CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT, MEM %: memory is not measured, never 0B.
    const row = r.stdout.split('\n')[1].split(/\s{2,}/);
    assert.match(row[3], /^not measured \/ \S+/);
    assert.equal(row[4], 'not measured');
  });
});

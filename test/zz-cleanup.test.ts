// Runs last: after the whole suite, no Berth test container may survive in
// any form: shim, container process, cgroup, mount or store directory.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TEST_CGROUP_ROOT } from './helpers';

function cmdline(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

describe('after the suite', () => {
  it('no berth-shim of a test store is running', () => {
    const shims = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(cmdline).filter((c) => c.includes('berth-shim') && c.includes('berth-test-'));
    assert.deepEqual(shims, []);
  });

  it('no test cgroup is left in any hierarchy', () => {
    const left: string[] = [];
    const roots = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c));
    for (const r of roots) if (fs.existsSync(path.join(r, TEST_CGROUP_ROOT))) left.push(path.join(r, TEST_CGROUP_ROOT));
    assert.deepEqual(left, []);
  });

  it('no mount of a test store is left on the host', () => {
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('berth-test-'));
    assert.deepEqual(mounts, []);
  });

  it('no container process of a test store is alive (every namespace is gone with it)', () => {
    const stray = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`/${TEST_CGROUP_ROOT}/`);
      } catch {
        return false;
      }
    });
    assert.deepEqual(stray, []);
  });

  it('no kernel or Jupyter server started for a test store is alive', () => {
    const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').some((e) => e.startsWith(`BERTH_ROOT=${os.tmpdir()}/berth-test-`));
      } catch {
        return false;
      }
    }).map((p) => `${p}: ${cmdline(p)}`);
    assert.deepEqual(left, []);
  });

  it('no Berth veth is left, and no bridge outlives its network', () => {
    // ip(8) shows the namespace the suite runs in (its own, under
    // scripts/run-tests.js): the default bridge may stay, nothing else.
    const { spawnSync } = require('child_process');
    const names = String(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout).split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
    assert.deepEqual(names.filter((n) => n.startsWith('br-') || n.startsWith('vb')), []);
  });

  it('no network namespace a test made is left', () => {
    const { spawnSync } = require('child_process');
    const names = String(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '');
    assert.doesNotMatch(names, /berth-test-/);
  });

  it('no test store directory is left', () => {
    assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('berth-test-')), []);
  });
});

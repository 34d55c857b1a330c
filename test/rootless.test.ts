// Rootless Berth with real unprivileged users. As root, this file makes two
// users, one with a subordinate id range and one without, runs
// test/rootless/as-user.ts as each of them (in this suite's network
// namespace), then checks what neither may see of the other and that
// nothing of theirs is left running. The users, their homes and their
// ranges are removed again, whatever happened.
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { busyboxTar, repoRoot } from './helpers';
import { runNotebooksAs } from './rootless/notebooks';

const suffix = String(process.pid % 100000);
const ranged = `berthrla${suffix}`;
const squashed = `berthrlb${suffix}`;
const share = fs.mkdtempSync('/tmp/berth-rootless-share-');
const canRun = process.getuid?.() === 0 && fs.existsSync('/usr/bin/newuidmap');

interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  xdg: string;
}

const users: TestUser[] = [];

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// A range past every one /etc/subuid and /etc/subgid hand out already.
function freeRange(): number {
  let end = 300000;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    for (const line of (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '').split('\n')) {
      const [, start, count] = line.split(':');
      if (start && count) end = Math.max(end, Number(start) + Number(count));
    }
  }
  return end;
}

function makeUser(name: string, range?: number): TestUser {
  sh('useradd', ['-m', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', '-s', '/bin/sh', name]);
  if (range) sh('usermod', ['--add-subuids', `${range}-${range + 65535}`, '--add-subgids', `${range}-${range + 65535}`, name]);
  const uid = Number(sh('id', ['-u', name]).trim());
  const gid = Number(sh('id', ['-g', name]).trim());
  // As systemd-logind makes /run/user/UID.
  const xdg = `/tmp/berth-rootless-xdg-${uid}`;
  fs.mkdirSync(xdg, { mode: 0o700 });
  fs.chownSync(xdg, uid, gid);
  const u = { name, uid, gid, home: `/home/${name}`, xdg };
  users.push(u);
  return u;
}

function asUser(u: TestUser, argv: string[], extra: Record<string, string> = {}) {
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: u.home,
    USER: u.name,
    LOGNAME: u.name,
    XDG_RUNTIME_DIR: u.xdg,
    // The namespace process goes a second after the last Berth process.
    BERTH_PAUSE_LINGER: '1',
    ...extra,
  };
  return spawnSync('runuser', ['-u', u.name, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], {
    encoding: 'utf8',
    cwd: '/',
    timeout: 600000,
  });
}

// Processes of a test user, or running as one of its subordinate ids.
function processesOf(u: TestUser, range?: number): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))![1]);
      if (uid === u.uid || (range !== undefined && uid >= range && uid < range + 65536)) pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

const bin = path.join(repoRoot, 'bin', 'berth');
const inner = path.join(repoRoot, 'dist', 'test', 'rootless', 'as-user.js');
let range = 0;

describe('rootless Berth as unprivileged users', { skip: !canRun && 'needs root (to make the users) and newuidmap (Debian uidmap)' }, () => {
  let a: TestUser;
  let b: TestUser;
  before(() => {
    range = freeRange();
    a = makeUser(ranged, range);
    b = makeUser(squashed);
    fs.chownSync(share, a.uid, a.gid);
    fs.chmodSync(share, 0o755);
  });

  after(() => {
    for (const u of users) {
      // The users' own processes (a pause process that has not gone yet,
      // if a test failed), found by uid: this file made these users.
      for (const pid of processesOf(u, u.name === ranged ? range : undefined)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      spawnSync('userdel', ['-r', '-f', u.name], { stdio: 'ignore' });
      fs.rmSync(u.home, { recursive: true, force: true });
      fs.rmSync(u.xdg, { recursive: true, force: true });
    }
    fs.rmSync(share, { recursive: true, force: true });
  });

  const runInner = (u: TestUser, role: string) => {
    const r = asUser(u, [process.execPath, '--test', '--test-reporter=spec', inner], {
      BERTH_TEST_ROLE: role,
      BERTH_TEST_BUSYBOX_TAR: busyboxTar,
      BERTH_TEST_IMAGE_TAR: path.join(share, 'owned.tar'),
      BERTH_TEST_SUBUID_START: String(range),
      BERTH_TEST_SUBGID_START: String(range),
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  };

  it('works for a user with a subordinate range: run, exec, logs, build, volumes, binds, commit, save/load, ports, networks, limits', () => {
    runInner(a, 'ranged');
  });

  it('works for a user without one, squashing other owners to root and saying so once', () => {
    runInner(b, 'squashed');
  });

  it('runs notebooks 02, 05 and 07 top to bottom with a kernel that runs as the user', () => {
    // 00 shows an OOM kill at -m 32m, which cgroup v1 cannot delegate: the
    // v2 guest runs it rootless (test/rootless-v2.test.ts).
    runNotebooksAs((argv, env) => asUser(a, argv, env), a.home, a.uid, a.gid, fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['00', '02', '05', '07'] : ['02', '05', '07']);
  });

  it('passes the container and build safety tests rootless', () => {
    const shim = path.join(repoRoot, 'native', 'build', 'Release', 'berth-shim');
    const files = ['security.test.js', 'build-escape.test.js'].map((f) => path.join(repoRoot, 'dist', 'test', f));
    const r = asUser(a, [shim, 'enter', process.execPath, '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { BERTH_TEST_NETNS: '1' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /ℹ pass [1-9]\d*\nℹ fail 0\n/);
  });

  it('gives devices rootless by binding the host\'s nodes, and applies CDI specs', () => {
    const shim = path.join(repoRoot, 'native', 'build', 'Release', 'berth-shim');
    const r = asUser(a, [shim, 'enter', process.execPath, '--test', '--test-reporter=spec', path.join(repoRoot, 'dist', 'test', 'devices.test.js')], { BERTH_TEST_NETNS: '1' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /ℹ pass [1-9]\d*\nℹ fail 0\n/);
  });

  it('keeps two users apart: neither sees nor reaches the other\'s images, containers or store', () => {
    const made = asUser(a, [bin, 'create', '--name', 'rl-private', '--network', 'none', 'busybox']);
    assert.equal(made.status, 0, made.stderr);
    try {
      assert.doesNotMatch(asUser(b, [bin, 'ps', '-a']).stdout, /rl-private/);
      const inspect = asUser(b, [bin, 'inspect', 'rl-private']);
      assert.notEqual(inspect.status, 0);
      assert.match(inspect.stderr, /No such object|not found|no such/i);
      assert.notEqual(asUser(b, ['ls', path.join(a.home, '.local', 'share', 'berth')]).status, 0);
      // Pointed at the other's store, Berth refuses it rather than using it.
      const forced = asUser(b, [bin, 'ps', '-a'], { BERTH_ROOT: path.join(a.home, '.local', 'share', 'berth') });
      assert.notEqual(forced.status, 0);
      assert.doesNotMatch(forced.stdout, /rl-private/);
    } finally {
      asUser(a, [bin, 'rm', 'rl-private']);
    }
  });

  it('leaves no process of either user behind', async () => {
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && (processesOf(a, range).length || processesOf(b).length)) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(processesOf(a, range), []);
    assert.deepEqual(processesOf(b), []);
  });
});

// What keeps a container's root from reaching the host.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DETACHED } from '../kernel/engine';
import { shimPath } from '../kernel/engine/native';
import { cliPath, compileProbe, majorMinor, repoRoot, TestStore, testStore } from './helpers';

let s: TestStore;
// Run through berth-shim enter by a user (test/rootless.test.ts), the same checks hold rootless.
const rootless = Boolean(process.env.BERTH_ROOTLESS);
before(async () => {
  s = await testStore('security');
});
after(async () => {
  await s.cleanup();
});

function sh(script: string, extra: string[] = []) {
  return s.berth(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
}

describe('container security', () => {
  it("keeps only Docker's default capabilities, with no_new_privs and a seccomp filter", () => {
    const st = sh('grep -E "^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status').stdout;
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    assert.match(st, /CapEff:\s+00000000a80425fb/);
    assert.match(st, /CapBnd:\s+00000000a80425fb/);
    assert.match(st, /CapInh:\s+0000000000000000/);
    assert.match(st, /NoNewPrivs:\s+1/);
    assert.match(st, /Seccomp:\s+2/);
  });

  it('gives a non-root user no capabilities at all', () => {
    assert.match(sh('grep CapEff /proc/self/status', ['-u', 'nobody']).stdout, /CapEff:\s+0000000000000000/);
  });

  it('refuses mount, unshare and namespace-creating clone even to root', () => {
    const r = sh('mount -t tmpfs none /mnt 2>&1; unshare -n true 2>&1; echo done');
    assert.match(r.stdout, /mount: permission denied|Operation not permitted/);
    assert.match(r.stdout, /unshare: .*Operation not permitted/);
    assert.match(r.stdout, /done/);
  });

  it("masks Docker's /proc paths and makes /proc/sys read-only", () => {
    // Which of them exist depends on the kernel: check those this host has.
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi'].filter((p) => fs.existsSync(p));
    assert.ok(masked.length > 0);
    const r = sh(`for p in ${masked.join(' ')}; do echo "$p $(cat $p 2>/dev/null | wc -c) $(ls $p 2>/dev/null | wc -l)"; done; echo 1 > /proc/sys/kernel/ns_last_pid`);
    for (const p of masked) assert.match(r.stdout, new RegExp(`^${p} 0 [01]$`, 'm'), r.stdout);
    assert.match(r.stderr, /Read-only file system/);
  });

  it('mounts /sys read-only', () => {
    assert.match(sh('touch /sys/kernel/x 2>&1; true').stdout, /Read-only file system/);
  });

  it('keeps host devices unreachable: /dev is minimal and mknod cannot make a usable disk node', () => {
    const r = sh('ls /dev | tr "\\n" " "; echo; mknod /dev/sda b 8 0 2>&1; mknod /tmp/sda b 8 0 && head -c1 /tmp/sda 2>&1; true');
    assert.equal(r.stdout.split('\n')[0].trim(), 'core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero');
    assert.match(r.stdout, /mknod: \/dev\/sda: Read-only file system/);
    // nodev root; rootless, no user namespace may make a device node at all
    assert.match(r.stdout + r.stderr, rootless ? /mknod: \/tmp\/sda: Operation not permitted/ : /head: \/tmp\/sda: Permission denied/);
  });

  it('gives the container its own UTS, IPC and mount namespaces', () => {
    const inside = sh('readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/mnt /proc/self/ns/pid').stdout.trim().split('\n');
    const host = ['uts', 'ipc', 'mnt', 'pid'].map((n) => fs.readlinkSync(`/proc/self/ns/${n}`));
    inside.forEach((ns, i) => assert.notEqual(ns, host[i]));
  });
});

describe('berth-shim', () => {
  it('refuses to run set-uid or set-gid, saying how to fix it', { skip: rootless && 'making a set-uid root copy needs root' }, () => {
    // A careless admin's set-uid root copy, run by an ordinary user.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-suid-'));
    try {
      fs.chmodSync(dir, 0o755);
      const copy = path.join(dir, 'berth-shim');
      fs.copyFileSync(shimPath, copy);
      fs.chmodSync(copy, 0o4755);
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', copy, 'enter', '/usr/bin/id', '-u'], { encoding: 'utf8' });
      assert.equal(r.status, 126, r.stdout + r.stderr);
      assert.equal(r.stdout, '', 'nothing ran');
      assert.match(r.stderr, /berth-shim: refusing to run set-uid or set-gid \(real uid 65534, effective uid 0; .*chmod ug-s/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nothing of the host inside a container', () => {
  let tools: string;
  before(() => {
    tools = path.dirname(compileProbe(path.join(s.root, 'tools')));
  });
  const shim = fs.statSync(shimPath);
  const isShim = (line: string) => line.startsWith(`${shim.dev}:${shim.ino} `);

  it('a watcher in the container gets no handle on the host berth-shim during 60 execs', async () => {
    const out = path.join(s.root, 'watch-exec');
    fs.mkdirSync(out);
    const r = s.berth(['run', '-d', '--name', 'watched', '--network', 'none', '-v', `${tools}:/t:ro`, '-v', `${out}:/out`, 'busybox', '/t/probe', 'watch', '120', '/out/seen']);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 60; i++) {
      const h = await s.engine.containers.exec('watched', { command: ['true'], env: [], tty: false, interactive: false }, DETACHED);
      assert.equal((await h.exited).exitCode, 0);
    }
    const seen = fs.readFileSync(path.join(out, 'seen'), 'utf8');
    assert.match(seen, /\/bin\/(true|busybox)/, 'the watcher saw the execs');
    assert.deepEqual(seen.split('\n').filter(isShim), [], seen);
    s.berth(['rm', '-f', 'watched']);
  });

  it("--init's reaper (PID 1) is no handle on the host berth-shim either", () => {
    const out = path.join(s.root, 'watch-init');
    fs.mkdirSync(out);
    const r = s.berth(['run', '--rm', '--init', '--network', 'none', '-v', `${tools}:/t:ro`, '-v', `${out}:/out`, 'busybox', '/t/probe', 'watch', '1', '/out/seen']);
    assert.equal(r.code, 0, r.stderr);
    const seen = fs.readFileSync(path.join(out, 'seen'), 'utf8');
    assert.deepEqual(seen.split('\n').filter(isShim), [], seen);
  });

  it('run and exec give the process only fds 0-2, with no blocked or ignored signal', () => {
    // The probe is the container's program itself (busybox sh would ignore SIGQUIT of its own accord).
    const run = s.berth(['run', '--rm', '--network', 'none', '-v', `${tools}:/t:ro`, 'busybox', '/t/probe', 'status']);
    s.berth(['run', '-d', '--name', 'fds', '--network', 'none', '-v', `${tools}:/t:ro`, 'busybox', 'sleep', '60']);
    const exec = s.berth(['exec', 'fds', '/t/probe', 'status']);
    const execI = s.berth(['exec', '-i', 'fds', '/t/probe', 'status'], { input: '' });
    s.berth(['rm', '-f', 'fds']);
    for (const r of [run, exec, execI]) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^fds: 0 1 2$/m);
      assert.match(r.stdout, /^SigBlk:\s+0+$/m);
      assert.match(r.stdout, /^SigIgn:\s+0+$/m);
    }
  });

  it("exec hands the container pipes, never the caller's own file or terminal", () => {
    s.berth(['run', '-d', '--name', 'fdleak', '--network', 'none', 'busybox', 'sleep', '60']);
    const outFile = path.join(s.root, 'exec-stdout.txt');
    const inFile = path.join(s.root, 'exec-stdin.txt');
    fs.writeFileSync(inFile, 'host secret typed on the terminal\n');
    const fdOut = fs.openSync(outFile, 'w');
    const fdIn = fs.openSync(inFile, 'r');
    const script = 'for f in 0 1 2; do readlink /proc/self/fd/$f; done';
    const r = spawnSync(process.execPath, [cliPath, 'exec', '-i', 'fdleak', 'sh', '-c', script], { env: s.env, stdio: [fdIn, fdOut, fdOut], timeout: 30000 });
    const r2 = spawnSync(process.execPath, [cliPath, 'exec', 'fdleak', 'readlink', '/proc/self/fd/0'], { env: s.env, stdio: [fdIn, 'pipe', 'pipe'], encoding: 'utf8', timeout: 30000 });
    fs.closeSync(fdOut);
    fs.closeSync(fdIn);
    s.berth(['rm', '-f', 'fdleak']);
    assert.equal(r.status, 0);
    const seen = fs.readFileSync(outFile, 'utf8');
    assert.doesNotMatch(seen, new RegExp(outFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.doesNotMatch(seen, new RegExp(inFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(seen, /^pipe:\[\d+\]\npipe:\[\d+\]\npipe:\[\d+\]$/m, seen);
    assert.equal(r2.stdout.trim(), '/dev/null', 'without -i, stdin is the container\'s /dev/null');
  });

  it("masks with the container's own /dev/null: a chmod of /proc/keys does not reach the host's", () => {
    const before = fs.statSync('/dev/null');
    // chmod to the mode it has: on the host's /dev/null that would still move its ctime, but
    // never break it (a run against vulnerable code once left the host's at 000).
    const r = sh('chmod 666 /proc/keys /proc/timer_list 2>/dev/null; stat -L -c "%d:%i" /proc/keys /proc/1/fd/0 /dev/null');
    const after = fs.statSync('/dev/null');
    assert.equal(after.mode, before.mode);
    assert.equal(after.ctimeMs, before.ctimeMs);
    const [keys, stdin, devNull] = r.stdout.trim().split('\n');
    assert.equal(keys, devNull, "/proc/keys is the container's /dev/null");
    assert.equal(stdin, devNull, "PID 1's stdin is the container's /dev/null");
    // Rootless, the container's /dev/null is the host's (no user namespace
    // may make device nodes), owned by a root unmapped there: the chmod
    // above failed, as the before and after show.
    if (!rootless) assert.notEqual(devNull, `${before.dev}:${before.ino}`);
  });

  it("no mount in the container resolves to a host inode, but for its own /etc files and the user's binds", () => {
    const r = sh('cat /proc/self/mountinfo', ['-v', `${tools}:/t:ro`]);
    const hostDevs = new Set(['/', '/dev', os.tmpdir(), repoRoot, s.root].map((p) => majorMinor(fs.statSync(p).dev)));
    const own = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/t']);
    // Rootless: the host's null, zero, full, random, urandom and tty nodes,
    // which the container's unmapped root cannot chmod, chown or replace.
    const hostNodes = new Set(rootless ? ['/null', '/zero', '/full', '/random', '/urandom', '/tty'] : []);
    const devOfDev = majorMinor(fs.statSync('/dev/null').dev);
    const leaks = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')).filter((f) => hostDevs.has(f[2]) && !own.has(f[4]) && !(f[2] === devOfDev && hostNodes.has(f[3])));
    assert.deepEqual(leaks.map((f) => `${f[4]} <- ${f[2]} ${f[3]}`), []);
    assert.ok(r.stdout.includes(' /t '), 'the user bind is listed');
  });

  it("seccomp: personality() only with Docker's personas, and no vsock", () => {
    const r = sh('/t/probe persona; /t/probe vsock', ['-v', `${tools}:/t:ro`]);
    assert.match(r.stdout, /read_implies_exec: Operation not permitted/);
    assert.match(r.stdout, /query: allowed/);
    assert.match(r.stdout, /linux32: allowed/);
    assert.match(r.stdout, /vsock: Operation not permitted/);
  });
});

// Run by test/rootless.test.ts as an unprivileged user (never as root):
// Berth rootless through bin/berth, as that user would use it. The role
// says which user this is: one with a subordinate id range ("ranged") or
// one without ("squashed").
import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { startRegistry } from '../registry-server';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const bin = path.join(repoRoot, 'bin', 'berth');
const role = process.env.BERTH_TEST_ROLE as 'ranged' | 'squashed';
const busyboxTar = process.env.BERTH_TEST_BUSYBOX_TAR!;
const imageTar = process.env.BERTH_TEST_IMAGE_TAR!; // made by the ranged user, loaded by the squashed one
const subStart = Number(process.env.BERTH_TEST_SUBUID_START || 0);
const home = os.homedir();
const store = path.join(home, '.local', 'share', 'berth');
const v1 = !fs.existsSync('/sys/fs/cgroup/cgroup.controllers');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function berth(args: string[], input = ''): Result {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], input = ''): string {
  const r = berth(args, input);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function fetch(port: number, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: file }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function until(fn: () => Promise<boolean> | boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

assert.notEqual(process.getuid?.(), 0, 'this file runs as an unprivileged user');

after(() => {
  berth(['rm', '-f', ...berth(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
});

describe(`rootless Berth (${role} user)`, () => {
  it('keeps its store in ~/.local/share/berth, closed to other users, and runs containers as the user', () => {
    const imported = berth(['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox']);
    assert.equal(imported.code, 0, imported.stderr);
    // Said once, on the first command, to the user without a range only.
    if (role === 'squashed') assert.match(imported.stderr, /no subordinate id range.*squashed to root.*usermod --add-subuids/s);
    else assert.equal(imported.stderr, '');
    const st = fs.statSync(store);
    assert.equal(st.uid, process.getuid!());
    assert.equal(st.mode & 0o077, 0);
    const map = ok(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    const lines = map.trim().split('\n');
    assert.equal(lines[0], '0');
    assert.deepEqual(lines[1].trim().split(/\s+/), ['0', String(process.getuid!()), '1']);
    if (role === 'ranged') assert.deepEqual(lines[2].trim().split(/\s+/), ['1', String(subStart), '65536']);
    else assert.equal(lines.length, 2);
  });

  it('runs detached containers, exec and logs', () => {
    const id = ok(['run', '-d', '--name', 'rl-logs', '--network', 'none', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2; sleep 60']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(ok(['exec', 'rl-logs', 'sh', '-c', 'echo exec as $(id -u) in $(hostname)']), `exec as 0 in ${id.slice(0, 12)}\n`);
    const logs = berth(['logs', 'rl-logs']);
    assert.equal(logs.stdout, 'hello\n');
    assert.equal(logs.stderr, 'oops\n');
    assert.match(ok(['top', 'rl-logs']), /sleep 60/);
    ok(['rm', '-f', 'rl-logs']);
    assert.equal(ok(['ps', '-aq']).trim(), '');
  });

  if (role === 'ranged') {
    it('builds with a RUN that chowns to uid 1000: 1000 inside, the mapped id outside', () => {
      const ctx = fs.mkdtempSync(path.join(home, 'ctx-'));
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo data > /owned && chown 1000:1000 /owned\n');
      ok(['build', '-q', '-t', 'owned', ctx]);
      assert.equal(ok(['run', '--rm', '--network', 'none', 'owned', 'stat', '-c', '%u:%g', '/owned']).trim(), '1000:1000');
      const snapshots = path.join(store, 'snapshots');
      const found = fs.readdirSync(snapshots).map((d) => path.join(snapshots, d, 'owned')).filter((f) => fs.existsSync(f));
      assert.equal(found.length, 1);
      const st = fs.statSync(found[0]);
      assert.equal(st.uid, subStart + 999);
      assert.equal(st.gid, Number(process.env.BERTH_TEST_SUBGID_START) + 999);
      // The image, for the user without a range to load.
      ok(['save', '-o', imageTar, 'owned']);
      fs.chmodSync(imageTar, 0o644);
    });
  } else {
    it('squashes files of other owners to root, and says so once with what an admin does', () => {
      const loaded = berth(['load', '-i', imageTar]);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.doesNotMatch(loaded.stderr, /subordinate/, 'said once only');
      assert.equal(ok(['run', '--rm', '--network', 'none', 'owned', 'stat', '-c', '%u:%g', '/owned']).trim(), '0:0');
      const r = berth(['run', '--rm', '--network', 'none', '-u', '1000', 'busybox', 'id']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /uid 1000.*not mapped.*subordinate range/);
    });
  }

  it('mounts volumes and binds of the user\'s own directories, with files the user owns', () => {
    ok(['volume', 'create', 'rlvol']);
    ok(['run', '--rm', '--network', 'none', '-v', 'rlvol:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(ok(['run', '--rm', '--network', 'none', '-v', 'rlvol:/data:ro', 'busybox', 'cat', '/data/f']), 'kept\n');
    const dir = fs.mkdtempSync(path.join(home, 'bind-'));
    fs.writeFileSync(path.join(dir, 'in'), 'from host\n');
    assert.equal(ok(['run', '--rm', '--network', 'none', '-v', `${dir}:/b`, 'busybox', 'sh', '-c', 'cat /b/in; echo back > /b/out']), 'from host\n');
    assert.equal(fs.statSync(path.join(dir, 'out')).uid, process.getuid!());
    // A directory the user may not read stays closed to the container's root.
    const r = berth(['run', '--rm', '--network', 'none', '-v', '/root:/r', 'busybox', 'ls', '/r']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Permission denied|permission denied/);
    ok(['volume', 'rm', 'rlvol']);
  });

  it('commits a container and saves and loads the image', () => {
    ok(['run', '--name', 'rl-commit', '--network', 'none', 'busybox', 'sh', '-c', 'echo committed > /c']);
    ok(['commit', 'rl-commit', 'rl-committed']);
    ok(['rm', 'rl-commit']);
    const tar = path.join(home, 'committed.tar');
    ok(['save', '-o', tar, 'rl-committed']);
    ok(['rmi', 'rl-committed']);
    assert.match(ok(['load', '-i', tar]), /Loaded image: rl-committed:latest/);
    assert.equal(ok(['run', '--rm', '--network', 'none', 'rl-committed', 'cat', '/c']), 'committed\n');
    ok(['rmi', 'rl-committed']);
  });

  it('publishes a port on 127.0.0.1 to a busybox httpd', async () => {
    const port = 20000 + (process.getuid!() % 20000);
    ok(['run', '-d', '--name', 'rl-web', '-p', `${port}:80`, 'busybox', 'sh', '-c', 'echo served > /index.html && httpd -f -p 80 -h /']);
    try {
      let body = '';
      await until(async () => (body = await fetch(port, '/index.html')) === 'served\n');
      assert.equal(body, 'served\n');
      assert.match(ok(['port', 'rl-web']), new RegExp(`80/tcp -> 127\\.0\\.0\\.1:${port}`));
    } finally {
      ok(['rm', '-f', 'rl-web']);
    }
    const low = berth(['run', '--rm', '-p', '127.0.0.1:80:80', 'busybox', 'true']);
    assert.equal(low.code, 125);
    assert.match(low.stderr, /ports below 1024.*ip_unprivileged_port_start/);
  });

  it('pushes to and pulls from a registry on 127.0.0.1, and keeps experiment records', async () => {
    const reg = await startRegistry(fs.mkdtempSync(path.join(home, 'registry-')));
    const ref = `${reg.host}/rootless/busybox:1`;
    try {
      ok(['tag', 'busybox', ref]);
      assert.match(ok(['push', ref]), /digest: sha256:[0-9a-f]{64}/);
      ok(['rmi', ref]);
      ok(['pull', ref]);
      assert.equal(ok(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled']), 'pulled\n');
      ok(['rmi', ref]);
    } finally {
      await reg.stop();
    }
    const file = path.join(home, 'records.jsonl');
    for (const word of ['same', 'same']) assert.equal(ok(['run', '--rm', '--network', 'none', '--record', file, 'busybox', 'echo', word]), `${word}\n`);
    const [a, b] = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(a.command, ['echo', 'same']);
    assert.equal(a.stdoutDigest, b.stdoutDigest);
    assert.match(ok(['records', '--file', file, 'compare', '1', '2']), /Runs 1 and 2 are the same experiment/);
  });

  it('runs on the host\'s network, seeing its interfaces through a read-only /sys', () => {
    const out = ok(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net; touch /sys/x 2>&1; true']);
    assert.deepEqual(out.split('\n').filter((l) => l && !l.includes('touch')), fs.readdirSync('/sys/class/net').sort());
    assert.match(out, /Read-only file system/);
  });

  it('lets two containers on a user network reach each other by name', () => {
    ok(['network', 'create', 'rlnet']);
    try {
      ok(['run', '-d', '--name', 'rl-server', '--network', 'rlnet', 'busybox', 'sh', '-c', 'echo peer > /index.html && httpd -f -p 80 -h /']);
      let got = '';
      for (let i = 0; i < 50 && got !== 'peer\n'; i++) got = berth(['run', '--rm', '--network', 'rlnet', 'busybox', 'wget', '-qO-', 'http://rl-server/index.html']).stdout;
      assert.equal(got, 'peer\n');
      // Nothing of it is on the host's side: the bridge lives in the user's own namespace.
      const bridge = JSON.parse(ok(['network', 'inspect', 'rlnet']))[0].Bridge as string;
      assert.ok(bridge);
      assert.doesNotMatch(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout, new RegExp(`: ${bridge}[@:]`));
    } finally {
      berth(['rm', '-f', 'rl-server']);
      ok(['network', 'rm', 'rlnet']);
    }
  });

  it('refuses limits it cannot apply, saying what an admin changes, and runs without them', { skip: !v1 && 'this host is cgroup v2 (the v2 guest checks delegated limits)' }, () => {
    for (const flags of [['-m', '64m'], ['--pids-limit', '10'], ['--cpus', '0.5']]) {
      const r = berth(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, flags.join(' '));
      assert.match(r.stderr, /cannot be applied rootless on this host: it uses cgroup v1/);
    }
    assert.equal(ok(['ps', '-aq']).trim(), '', `a refused run leaves no container: ${ok(['ps', '-a'])}`);
    assert.equal(ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'unlimited']), 'unlimited\n');
  });

  it('leaves nothing behind: the namespace process goes once it is idle', async () => {
    berth(['rmi', 'owned']);
    const run = process.env.XDG_RUNTIME_DIR ? path.join(process.env.XDG_RUNTIME_DIR, 'berth') : '';
    const pauseFile = path.join(run, 'pause.pid');
    const pid = Number(fs.readFileSync(pauseFile, 'utf8').split(' ')[0]);
    assert.ok(pid > 0);
    await until(() => !fs.existsSync(`/proc/${pid}`), 20000);
    assert.ok(!fs.existsSync(pauseFile));
    const left = fs.readdirSync(run).filter((f) => f !== 'pause.lock');
    assert.deepEqual(left, [], 'the runtime directory holds nothing of a container');
  });
});

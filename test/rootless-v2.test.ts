// Rootless limits where cgroup v2 delegates them: a user who owns a
// delegated subtree (the v2 guest hands one to nobody, as systemd's
// Delegate= does; see scripts/v2-guest/stage2.sh) gets -m, --pids-limit and
// --cpus enforced in cgroups Berth makes inside that subtree. Elsewhere the
// suite has nothing to check and says so.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { busyboxTar, repoRoot } from './helpers';
import { RunAs, runNotebooksAs } from './rootless/notebooks';

const delegated = process.env.BERTH_DELEGATED_CGROUP;
const bin = path.join(repoRoot, 'bin', 'berth');

// Runs fn with a home of nobody's (in the guest's scratch tmpfs) and a way
// to run commands as nobody inside the delegated subtree, where systemd
// would start the user's session; afterwards nothing of it is left.
function asNobody(fn: (home: string, runAs: RunAs) => void): void {
  const d = delegated!;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rootless-v2-'));
  fs.chmodSync(home, 0o755);
  fs.chownSync(home, 65534, 65534);
  const runAs: RunAs = (argv, env = {}) => spawnSync('sh', ['-c', `echo $$ > ${d}/session/cgroup.procs && exec runuser -u nobody -- env -i "$@"`, 'sh',
    `PATH=${process.env.PATH}`, `HOME=${home}`, `XDG_RUNTIME_DIR=${home}`, 'BERTH_PAUSE_LINGER=1', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], { encoding: 'utf8', timeout: 600000 });
  try {
    fn(home, runAs);
  } finally {
    // The namespace process leaves a second after the last command.
    for (let i = 0; i < 50 && fs.existsSync(path.join(home, 'berth', 'pause.pid')); i++) spawnSync('sleep', ['0.2']);
    try {
      fs.rmdirSync(path.join(d, 'berth'));
    } catch {
      /* never made */
    }
    fs.rmSync(home, { recursive: true, force: true });
  }
}

describe('rootless limits in a delegated cgroup v2 subtree', { skip: delegated ? false : 'no delegated subtree here (the v2 guest has one)' }, () => {
  it('enforces -m, --pids-limit and --cpus for the user who owns the subtree, in cgroups of its own there', () => {
    const d = delegated!;
    const script = `
      set -u
      b=${bin}
      $b import ${busyboxTar} busybox >/dev/null || exit 2
      $b run --name oom --network none -m 32m busybox sh -c 'head -c 200m /dev/zero | tail'
      echo "oom-exit=$?"
      echo "oom-killed=$($b inspect -f '{{.State.OOMKilled}}' oom)"
      $b rm oom >/dev/null
      id=$($b run -d --network none -m 48m --pids-limit 12 --cpus 0.5 busybox sleep 30)
      echo "id=$id"
      $b exec $id sh -c 'echo "inside-memory=$(cat /sys/fs/cgroup/memory.max) inside-cpu=$(cat /sys/fs/cgroup/cpu.max)"'
      $b exec $id sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 5 & done; wait' 2>&1 | grep -c "can't fork" | sed 's/^/refused-forks=/'
      $b rm -f $id >/dev/null
      $b run --rm --network none busybox echo unlimited
      $b rmi busybox >/dev/null
    `;
    asNobody((_home, runAs) => {
      const r = runAs(['sh', '-c', script]);
      const out = r.stdout;
      assert.equal(r.status, 0, `${out}${r.stderr}`);
      assert.match(out, /^oom-exit=137$/m, out + r.stderr);
      assert.match(out, /^oom-killed=true$/m);
      const id = /^id=([0-9a-f]{64})$/m.exec(out)![1];
      // Made under the user's own subtree, never elsewhere in the hierarchy.
      assert.match(out, new RegExp(`inside-memory=${48 << 20} inside-cpu=50000 100000`));
      assert.match(out, /^refused-forks=[1-9]\d*$/m, 'the pids limit stopped some of the 16 forks');
      assert.match(out, /^unlimited$/m);
      assert.ok(!fs.existsSync(path.join(d, 'berth', id)), 'the container cgroup went with the container');
      assert.ok(fs.existsSync(path.join(d, 'berth')), 'containers get cgroups in the delegated subtree');
    });
  });

  it('gives a container on the default network outbound connectivity, but not the host\'s loopback', () => {
    // This test's own network namespace gets a link with an address and a
    // default route, as a host has, and a server on that address; another
    // server on its loopback stands for what the user keeps on 127.0.0.1.
    const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
    assert.equal(ip('link', 'add', 'berthout0', 'type', 'dummy').status, 0, 'run this inside a network namespace of its own');
    const www = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outbound-'));
    fs.writeFileSync(path.join(www, 'index.html'), 'from outside\n');
    fs.chmodSync(www, 0o755);
    ip('addr', 'add', '10.99.0.1/24', 'dev', 'berthout0');
    ip('link', 'set', 'berthout0', 'up');
    ip('route', 'add', 'default', 'via', '10.99.0.254');
    const servers = ['10.99.0.1:18099', '127.0.0.1:18098'].map((at) => spawn('busybox', ['httpd', '-f', '-p', at, '-h', www], { stdio: 'ignore' }));
    try {
      asNobody((_home, runAs) => {
        const r = runAs([bin, 'import', busyboxTar, 'busybox']);
        assert.equal(r.status, 0, r.stderr);
        // nc rather than busybox-static's wget, which crashes when a connection fails.
        const get = (host: string, port: number) => runAs([bin, 'run', '--rm', 'busybox', 'sh', '-c', `printf "GET /index.html HTTP/1.0\\r\\n\\r\\n" | nc -w 5 ${host} ${port}; echo "nc=$?"`]);
        const out = get('10.99.0.1', 18099);
        assert.match(out.stdout, /^HTTP\/1\.[01] 200 OK\r\n[^]*\r\n\r\nfrom outside\nnc=0\n$/, out.stderr);
        // slirp4netns's gateway would lead to the host's loopback; it is closed.
        assert.doesNotMatch(get('10.0.2.2', 18098).stdout, /from outside/);
      });
    } finally {
      for (const srv of servers) srv.kill('SIGKILL');
      ip('link', 'del', 'berthout0');
      fs.rmSync(www, { recursive: true, force: true });
    }
  });

  it('runs notebook 00, whose OOM demo needs -m, with a kernel that runs as the user', () => {
    asNobody((home, runAs) => runNotebooksAs(runAs, home, 65534, 65534, ['00']));
  });
});

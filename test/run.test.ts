// `berth run`: the behaviours a user checks first.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('run');
});
after(async () => {
  await s.cleanup();
});

describe('run', () => {
  it('runs the command as PID 1, seeing only its own processes', () => {
    const r = s.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo pid=$$; ps -o pid,comm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pid=1$/m);
    const pids = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.ok(pids.length >= 1 && pids.length <= 3, `container sees host processes: ${r.stdout}`);
    assert.ok(pids.every((p) => p < 10), r.stdout);
  });

  it('uses the short container ID as hostname', () => {
    const r = s.berth(['run', '--name', 'hn', 'busybox', 'hostname']);
    assert.equal(r.code, 0, r.stderr);
    const id = s.berth(['inspect', '-f', '{{.Id}}', 'hn']).stdout.trim();
    assert.equal(r.stdout.trim(), id.slice(0, 12));
    assert.equal(s.berth(['rm', 'hn']).code, 0);
  });

  it('keeps a file written in one container out of the next one', () => {
    assert.equal(s.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo secret > /root/note && cat /root/note']).stdout, 'secret\n');
    const r = s.berth(['run', '--rm', 'busybox', 'sh', '-c', 'cat /root/note 2>&1; true']);
    assert.match(r.stdout, /No such file/);
  });

  it('returns the exit code of the command', () => {
    assert.equal(s.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
  });

  it('answers a command missing from the image with exit 127 and a clear message', () => {
    const r = s.berth(['run', '--rm', 'busybox', 'no-such-program']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /"no-such-program": executable file not found in \$PATH/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/); // no stack trace
  });

  it('OOM-kills a memory hog under -m 32m with exit 137, and inspect says OOMKilled', () => {
    const r = s.berth(['run', '--name', 'hog', '-m', '32m', 'busybox', 'sh', '-c', 'x=aaaaaaaa; while true; do x="$x$x"; done']);
    assert.equal(r.code, 137);
    assert.equal(s.berth(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog']).stdout.trim(), 'true 137');
    assert.equal(s.berth(['inspect', '-f', '{{.HostConfig.Memory}}', 'hog']).stdout.trim(), String(32 * 1024 * 1024));
    s.berth(['rm', 'hog']);
  });

  it('contains a fork bomb under --pids-limit 20', () => {
    const r = s.berth(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', 'b() { b | b & }; b; sleep 1; echo still-here'], { timeoutMs: 30000 });
    assert.match(r.stdout, /still-here/);
    assert.match(r.stderr, /can't fork/);
  });

  it('passes -e, --env-file, -w and -u to the process', () => {
    const envFile = `${s.root}/env.list`;
    require('fs').writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    const r = s.berth(['run', '--rm', '-e', 'GREETING=hi there', '--env-file', envFile, '-w', '/tmp/work', '-u', 'nobody', 'busybox',
      'sh', '-c', 'echo "$GREETING|$FROM_FILE|$(pwd)|$(id -un)|$HOME"']);
    assert.equal(r.stdout, 'hi there|yes|/tmp/work|nobody|/home\n', r.stderr);
  });

  it('accepts uid:gid and refuses an unknown user clearly', () => {
    assert.equal(s.berth(['run', '--rm', '-u', '1234:55', 'busybox', 'id']).stdout.trim(), 'uid=1234 gid=55 groups=55');
    const r = s.berth(['run', '--rm', '-u', 'ghost', 'busybox', 'id']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unable to find user ghost/);
  });

  it('replaces the entrypoint with --entrypoint and uses the image CMD by default', () => {
    assert.equal(s.berth(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint']).stdout, 'from entrypoint\n');
    assert.equal(s.berth(['run', '--rm', '-i', 'busybox'], { input: 'echo default-cmd-is-sh\n' }).stdout, 'default-cmd-is-sh\n');
  });

  it('sets --hostname and makes --read-only roots unwritable', () => {
    assert.equal(s.berth(['run', '--rm', '--hostname', 'lab', 'busybox', 'hostname']).stdout, 'lab\n');
    const r = s.berth(['run', '--rm', '--read-only', 'busybox', 'sh', '-c', 'touch /x 2>&1; cat /etc/hostname >/dev/null && echo read-ok']);
    assert.match(r.stdout, /Read-only file system/);
    assert.match(r.stdout, /read-ok/);
  });

  it('streams stdin with -i and reads EOF', () => {
    const r = s.berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'wc -l'], { input: 'a\nb\nc\n' });
    assert.equal(r.stdout.trim(), '3');
  });

  it('allocates a pseudo-terminal with -t and runs an interactive shell with -it', () => {
    // script(1) gives the CLI a real terminal, as a person at a keyboard has.
    const { spawnSync } = require('child_process');
    const cli = (args: string) => `${process.execPath} ${require('./helpers').cliPath} ${args}`;
    const t = spawnSync('script', ['-qec', cli(`run --rm -t busybox sh -c 'tty; echo $TERM'`), '/dev/null'], { env: s.env, encoding: 'utf8', input: '' });
    assert.match(t.stdout, /^\/dev\/pts\/0\r/m);
    assert.match(t.stdout, /^xterm\r/m);
    const it = spawnSync('script', ['-qec', cli('run --rm -it busybox sh'), '/dev/null'], { env: s.env, encoding: 'utf8', input: 'echo inside-$((6*7))\nexit 5\n' });
    assert.match(it.stdout, /inside-42/);
    assert.equal(it.status, 5);
  });

  it('gives --network none only a loopback interface, up', () => {
    const r = s.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; ping -c1 -W1 127.0.0.1 >/dev/null && echo lo-up']);
    assert.equal(r.stdout, 'lo\nlo-up\n', r.stderr);
  });

  it('shares the host interfaces with --network host', () => {
    // ip(8) asks netlink, which answers for this process's namespace
    // (/sys may still show another one's).
    const host = require('child_process').spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((l: string) => l.split(':')[1].trim().split('@')[0]).sort();
    const r = s.berth(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
    assert.deepEqual(r.stdout.trim().split(/\s+/).sort(), host);
  });

  it('runs an init as PID 1 with --init that forwards signals to the command', async () => {
    const id = s.berth(['run', '-d', '--init', 'busybox', 'sleep', '300']).stdout.trim();
    const ps = s.berth(['exec', id, 'ps', '-o', 'pid,args']).stdout;
    assert.match(ps, /^\s*2\s+sleep 300$/m, ps);
    const t0 = Date.now();
    assert.equal(s.berth(['stop', '-t', '5', id]).code, 0);
    assert.ok(Date.now() - t0 < 4000, 'sleep behind --init should die on SIGTERM at once');
    assert.equal(s.berth(['inspect', '-f', '{{.State.ExitCode}}', id]).stdout.trim(), '143');
  });

  it('applies --cpus, --cpu-shares, -m and --memory-swap to the cgroup', () => {
    const id = s.berth(['run', '-d', '--cpus', '0.5', '-c', '512', '-m', '64m', '--memory-swap', '96m', 'busybox', 'sleep', '30']).stdout.trim();
    const cg = s.engine.containers.get(id);
    assert.equal(cg.record.HostConfig.NanoCpus, 5e8);
    const fs = require('fs');
    const v1 = `/sys/fs/cgroup/cpu/${s.env.BERTH_CGROUP_PARENT}/${id}/cpu.cfs_quota_us`;
    const v2 = `/sys/fs/cgroup/${s.env.BERTH_CGROUP_PARENT}/${id}/cpu.max`;
    const text = fs.existsSync(v1) ? fs.readFileSync(v1, 'utf8') : fs.readFileSync(v2, 'utf8');
    assert.match(text, /^50000\b/);
    const cgfile = (v1ctl: string, v1name: string, v2name: string) => {
      const a = `/sys/fs/cgroup/${v1ctl}/${s.env.BERTH_CGROUP_PARENT}/${id}/${v1name}`;
      const b = `/sys/fs/cgroup/${s.env.BERTH_CGROUP_PARENT}/${id}/${v2name}`;
      return fs.existsSync(a) ? fs.readFileSync(a, 'utf8').trim() : fs.existsSync(b) ? fs.readFileSync(b, 'utf8').trim() : undefined;
    };
    assert.match(cgfile('cpu', 'cpu.shares', 'cpu.weight') ?? '', /^(512|20)$/); // v2 weight = 1 + (512-2)*9999/262142
    assert.equal(cgfile('memory', 'memory.limit_in_bytes', 'memory.max'), String(64 * 1024 * 1024));
    const swap = cgfile('memory', 'memory.memsw.limit_in_bytes', 'memory.swap.max');
    if (swap !== undefined) assert.ok([String(96 * 1024 * 1024), String(32 * 1024 * 1024)].includes(swap), swap);
    s.berth(['rm', '-f', id]);
  });
});

// Detached containers and the commands that manage them.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { eventually, TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('lifecycle');
});
after(async () => {
  await s.cleanup();
});

const ticker = ['sh', '-c', 'trap "echo got-term; exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done'];

describe('detached containers', () => {
  it('survive the CLI process; ps and logs show them later', async () => {
    const r = s.berth(['run', '-d', '--name', 'tick', 'busybox', ...ticker]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^[a-f0-9]{64}$/);
    // The CLI that started it has exited; another CLI call sees it running.
    const ps = s.berth(['ps']);
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    assert.match(ps.stdout, new RegExp(`^${r.stdout.slice(0, 12)}\\s+busybox\\s+"sh -c trap .*Up .*tick$`, 'm'));
    assert.ok(await eventually(() => /tick 3/.test(s.berth(['logs', 'tick']).stdout)));
    assert.equal(s.berth(['ps', '-q']).stdout.trim(), r.stdout.slice(0, 12));
    assert.equal(s.berth(['ps', '-q', '--no-trunc']).stdout.trim(), r.stdout.trim());
  });

  it('logs --tail, -t and -f', async () => {
    const tail = s.berth(['logs', '--tail', '2', 'tick']).stdout.trim().split('\n');
    assert.equal(tail.length, 2);
    assert.match(s.berth(['logs', '-t', '--tail', '1', 'tick']).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tick \d+\n$/);
    const follow = s.berthAsync(['logs', '-f', '--tail', '0', 'tick']);
    await new Promise((r) => setTimeout(r, 400));
    s.berth(['stop', 'tick']);
    const f = await follow;
    assert.match(f.stdout, /tick \d+\n/);
    assert.match(f.stdout, /got-term\n$/); // -f ends when the container does
  });

  it('stop delivers SIGTERM first: a trapping process exits 0', () => {
    assert.equal(s.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'tick']).stdout.trim(), 'exited 0');
    assert.match(s.berth(['ps', '-a']).stdout, /Exited \(0\) .* ago\s+tick/);
  });

  it('stop sends SIGKILL after the timeout to a process that ignores SIGTERM', () => {
    // PID 1 without a TERM handler ignores SIGTERM, as under docker.
    const id = s.berth(['run', '-d', 'busybox', 'sleep', '300']).stdout.trim();
    const t0 = Date.now();
    assert.equal(s.berth(['stop', '-t', '1', id]).stdout.trim(), id);
    const took = Date.now() - t0;
    assert.ok(took >= 1000, `stopped after ${took} ms, before the timeout`);
    assert.ok(took < 5000, `stop took ${took} ms`);
    assert.equal(s.berth(['inspect', '-f', '{{.State.ExitCode}}', id]).stdout.trim(), '137');
  });

  it('start runs a stopped container again, keeping its filesystem', async () => {
    s.berth(['run', '--name', 'again', 'busybox', 'sh', '-c', 'echo run >> /count; cat /count | wc -l']);
    assert.equal(s.berth(['start', 'again']).stdout.trim(), 'again');
    assert.equal(s.berth(['wait', 'again']).stdout.trim(), '0');
    assert.deepEqual(s.berth(['logs', 'again']).stdout.trim().split('\n').map(Number), [1, 2]);
  });

  it('restart, kill -s and wait', async () => {
    s.berth(['run', '-d', '--name', 'killme', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 0.1; done']);
    assert.equal(s.berth(['restart', '-t', '1', 'killme']).code, 0);
    assert.match(s.berth(['ps']).stdout, /Up .* killme$/m);
    const waiting = s.berthAsync(['wait', 'killme']);
    assert.equal(s.berth(['kill', '-s', 'USR1', 'killme']).stdout.trim(), 'killme');
    assert.equal((await waiting).stdout.trim(), '42');
    const bad = s.berth(['kill', '-s', 'NOPE', 'killme']);
    assert.equal(bad.code, 1);
  });

  it('rm refuses a running container and rm -f kills it', () => {
    s.berth(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
    const r = s.berth(['rm', 'busy']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot remove a running container/);
    assert.equal(s.berth(['rm', '-f', 'busy']).stdout.trim(), 'busy');
    assert.doesNotMatch(s.berth(['ps', '-a']).stdout, /\sbusy$/m);
    // The name is free again.
    assert.equal(s.berth(['run', '--rm', '--name', 'busy', 'busybox', 'true']).code, 0);
  });

  it('-d --rm containers remove themselves when they exit', async () => {
    const id = s.berth(['run', '-d', '--rm', 'busybox', 'sleep', '0.2']).stdout.trim();
    assert.ok(await eventually(() => !s.berth(['ps', '-a', '-q', '--no-trunc']).stdout.includes(id)));
  });

  it('generates a docker-style name when none is given', () => {
    const id = s.berth(['run', '-d', 'busybox', 'sleep', '30']).stdout.trim();
    const name = s.berth(['inspect', '-f', '{{.Name}}', id]).stdout.trim();
    assert.match(name, /^\/[a-z]+_[a-z]+\d*$/);
    assert.match(s.berth(['ps']).stdout, new RegExp(`${name.slice(1)}$`, 'm'));
    s.berth(['rm', '-f', id]);
  });

  it('selects containers by name or unique ID prefix and refuses a taken name', () => {
    const id = s.berth(['run', '-d', '--name', 'sel', 'busybox', 'sleep', '300']).stdout.trim();
    assert.equal(s.berth(['inspect', '-f', '{{.Name}}', id.slice(0, 5)]).stdout.trim(), '/sel');
    const dup = s.berth(['run', '--name', 'sel', 'busybox', 'true']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /name "\/sel" is already in use/);
  });

  it('exec runs in the container with its env, -e, -w, -u and exit code', () => {
    const r = s.berth(['exec', '-e', 'X=1', '-w', '/tmp', '-u', 'nobody', 'sel', 'sh', '-c', 'echo $X $(pwd) $(id -un) $(hostname); exit 4']);
    assert.equal(r.code, 4);
    const id = s.berth(['inspect', '-f', '{{.Id}}', 'sel']).stdout.trim();
    assert.equal(r.stdout, `1 /tmp nobody ${id.slice(0, 12)}\n`);
    const ps = s.berth(['exec', 'sel', 'ps', '-o', 'pid,args']).stdout;
    assert.match(ps, /^\s*1\s+sleep 300$/m);
    assert.equal(s.berth(['exec', 'sel', 'nope']).code, 127);
    assert.equal(s.berth(['exec', '-i', 'sel', 'cat'], { input: 'piped\n' }).stdout, 'piped\n');
  });

  it('top lists the container processes in ps -ef columns', () => {
    const r = s.berth(['top', 'sel']);
    assert.match(r.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
    assert.match(r.stdout, /^root\s+\d+\s+\d+\s+\d+\s+\d\d:\d\d\s+\?\s+00:00:00\s+sleep 300$/m);
  });

  it('stats --no-stream reads memory, pids and limits from the cgroup', () => {
    s.berth(['run', '-d', '--name', 'limited', '-m', '64m', '--pids-limit', '50', 'busybox', 'sh', '-c', 'sleep 300 & sleep 300']); // busybox sh execs the last command: 2 processes
    const r = s.berth(['stats', '--no-stream', 'limited']);
    assert.match(r.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/m);
    assert.match(r.stdout, /limited\s+\d+\.\d\d%\s+[\d.]+[KM]iB \/ 64MiB\s+\d+\.\d\d%\s+[\d.]+k?B \/ [\d.]+k?B\s+\S+ \/ \S+\s+2$/m);
  });

  it('inspect prints docker-shaped JSON', () => {
    const [c] = JSON.parse(s.berth(['inspect', 'limited']).stdout);
    assert.equal(c.Name, '/limited');
    assert.equal(c.State.Running, true);
    assert.equal(c.HostConfig.PidsLimit, 50);
    assert.equal(c.Config.Image, 'busybox');
    assert.ok(c.State.Pid > 0);
    assert.match(c.Image, /^sha256:[a-f0-9]{64}$/);
  });
});

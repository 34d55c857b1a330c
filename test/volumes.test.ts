// Volumes and mounts on real mounts: named and anonymous volumes, bind
// mounts with :ro enforced, --mount and --tmpfs, copy-up from the image,
// "in use" protection, and that nothing is left mounted on the host.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TestStore, testStore } from './helpers';

let s: TestStore;
let hostDir: string;
const run = (...args: string[]) => s.berth(['run', '--network', 'none', ...args]);

before(async () => {
  s = await testStore('volumes');
  hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-bind-'));
});
after(async () => {
  await s.cleanup();
  fs.rmSync(hostDir, { recursive: true, force: true });
});

function hostMountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));
}

describe('named volumes', () => {
  it('keep their data after the container is gone; the container layer does not (the database lesson)', () => {
    assert.equal(s.berth(['volume', 'create', 'dbdata']).stdout, 'dbdata\n');
    const w = run('--name', 'db1', '-v', 'dbdata:/var/lib/db', 'busybox', 'sh', '-c', 'echo row1 > /var/lib/db/table; echo cache > /var/cache-in-layer');
    assert.equal(w.code, 0, w.stderr);
    assert.equal(s.berth(['rm', 'db1']).code, 0);
    const r = run('--rm', '-v', 'dbdata:/var/lib/db', 'busybox', 'sh', '-c', 'cat /var/lib/db/table; cat /var/cache-in-layer 2>&1 || true');
    assert.match(r.stdout, /^row1\n/);
    assert.match(r.stdout, /No such file or directory/);
  });

  it('are made on first use by -v NAME:/path, listed and inspected as docker shows them', () => {
    assert.equal(run('--rm', '-v', 'auto-made:/d', 'busybox', 'true').code, 0);
    const ls = s.berth(['volume', 'ls']);
    assert.match(ls.stdout, /^DRIVER\s+VOLUME NAME\n/);
    assert.match(ls.stdout, /local\s+auto-made\n/);
    const info = JSON.parse(s.berth(['volume', 'inspect', 'auto-made']).stdout);
    assert.equal(info[0].Name, 'auto-made');
    assert.equal(info[0].Driver, 'local');
    assert.ok(fs.statSync(info[0].Mountpoint).isDirectory());
    assert.equal(s.berth(['volume', 'inspect', '-f', '{{.Driver}}', 'auto-made']).stdout, 'local\n');
  });

  it('cannot be removed while a container, running or stopped, uses it', () => {
    s.berth(['volume', 'create', 'busy']);
    const id = run('-d', '--name', 'holder', '-v', 'busy:/b', 'busybox', 'sleep', '60').stdout.trim();
    let rm = s.berth(['volume', 'rm', 'busy']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, new RegExp(`volume is in use - \\[${id.slice(0, 12)}\\]`));
    assert.equal(s.berth(['stop', '-t', '0', 'holder']).code, 0);
    rm = s.berth(['volume', 'rm', 'busy']);
    assert.equal(rm.code, 1, 'a stopped container still holds its volume');
    assert.equal(s.berth(['rm', 'holder']).code, 0);
    assert.equal(s.berth(['volume', 'rm', 'busy']).stdout, 'busy\n');
    assert.doesNotMatch(s.berth(['volume', 'ls', '-q']).stdout, /^busy$/m);
  });

  it('are mounted read-only with :ro', () => {
    s.berth(['volume', 'create', 'rovol']);
    const r = run('--rm', '-v', 'rovol:/r:ro', 'busybox', 'sh', '-c', 'echo x > /r/f');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Read-only file system/);
  });
});

describe('bind mounts', () => {
  it('show host files; :ro refuses writes, rw writes reach the host', () => {
    fs.writeFileSync(path.join(hostDir, 'input.txt'), 'from the host\n');
    const ro = run('--rm', '-v', `${hostDir}:/in:ro`, 'busybox', 'sh', '-c', 'cat /in/input.txt; echo bad > /in/out.txt');
    assert.match(ro.stdout, /from the host/);
    assert.match(ro.stderr, /Read-only file system/);
    assert.ok(!fs.existsSync(path.join(hostDir, 'out.txt')));
    const rw = run('--rm', '--mount', `type=bind,source=${hostDir},target=/out`, 'busybox', 'sh', '-c', 'echo result > /out/out.txt');
    assert.equal(rw.code, 0, rw.stderr);
    assert.equal(fs.readFileSync(path.join(hostDir, 'out.txt'), 'utf8'), 'result\n');
  });

  it('bind a single file, and --mount readonly is enforced', () => {
    const f = path.join(hostDir, 'config.ini');
    fs.writeFileSync(f, 'answer=42\n');
    const r = run('--rm', '--mount', `type=bind,src=${f},dst=/etc/app.ini,readonly`, 'busybox', 'sh', '-c', 'cat /etc/app.ini; echo x >> /etc/app.ini');
    assert.match(r.stdout, /answer=42/);
    assert.match(r.stderr, /Read-only file system/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'answer=42\n');
  });

  it('a missing --mount source is an error and nothing is created; -v creates the directory as docker does', () => {
    const missing = path.join(hostDir, 'not-there');
    const before = s.engine.containers.listIds().length;
    const r = run('--rm', '--mount', `type=bind,source=${missing},target=/x`, 'busybox', 'true');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /bind source path does not exist/);
    assert.equal(s.engine.containers.listIds().length, before);
    assert.ok(!fs.existsSync(missing));
    assert.equal(run('--rm', '-v', `${missing}:/x`, 'busybox', 'true').code, 0);
    assert.ok(fs.statSync(missing).isDirectory());
  });
});

describe('tmpfs', () => {
  it('--tmpfs and --mount type=tmpfs give a size-limited, nosuid nodev noexec tmpfs', () => {
    const r = run('--rm', '--tmpfs', '/scratch:size=1m', '--mount', 'type=tmpfs,target=/fast,tmpfs-size=2m', 'busybox', 'sh', '-c', 'grep -E " /(scratch|fast) " /proc/mounts; dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1 | grep -i space');
    assert.match(r.stdout, /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
    assert.match(r.stdout, /tmpfs \/fast tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k/);
    assert.match(r.stdout, /No space left on device/);
  });
});

describe('anonymous volumes', () => {
  it('a Dockerfile VOLUME gets one, filled from the image; rm -v removes it, plain rm keeps it', () => {
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-volctx-'));
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN mkdir -p /srv/site && echo seeded > /srv/site/index.html\nVOLUME /srv/site\n');
    const b = s.berth(['build', '-q', '-t', 'site:1', ctx]);
    fs.rmSync(ctx, { recursive: true, force: true });
    assert.equal(b.code, 0, b.stderr);
    const volsBefore = s.berth(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean);
    const r = run('--name', 'site1', 'site:1', 'sh', '-c', 'cat /srv/site/index.html; echo added > /srv/site/new');
    assert.equal(r.stdout, 'seeded\n');
    const insp = JSON.parse(s.berth(['inspect', 'site1']).stdout)[0];
    const m = insp.Mounts.find((x: { Destination: string }) => x.Destination === '/srv/site');
    assert.equal(m.Type, 'volume');
    assert.match(m.Name, /^[0-9a-f]{64}$/);
    assert.ok(fs.existsSync(path.join(m.Source, 'new')), 'the write landed in the volume');
    assert.equal(s.berth(['rm', '-v', 'site1']).code, 0);
    assert.ok(!fs.existsSync(m.Source), 'rm -v removed the anonymous volume');
    const r2 = run('--name', 'site2', 'site:1', 'true');
    assert.equal(r2.code, 0);
    const v2 = JSON.parse(s.berth(['inspect', 'site2']).stdout)[0].Mounts[0].Name;
    assert.equal(s.berth(['rm', 'site2']).code, 0);
    assert.ok(s.berth(['volume', 'ls', '-q']).stdout.includes(v2), 'plain rm keeps the volume');
    const pruned = s.berth(['volume', 'prune', '-f']);
    assert.match(pruned.stdout, new RegExp(`Deleted Volumes:\\n${v2}\\n`));
    assert.deepEqual(s.berth(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean), volsBefore, 'prune keeps named volumes');
  });

  it('run --rm takes its anonymous volumes with it', () => {
    const before = s.berth(['volume', 'ls', '-q']).stdout;
    assert.equal(run('--rm', '-v', '/tmpdata', 'busybox', 'sh', '-c', 'echo x > /tmpdata/x').code, 0);
    assert.equal(s.berth(['volume', 'ls', '-q']).stdout, before);
  });
});

describe('mount safety and bad input', () => {
  it('a symlink in the image cannot aim a mount at the host', () => {
    const target = path.join(hostDir, 'must-stay-empty');
    fs.mkdirSync(target);
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-test-volctx-'));
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nRUN ln -s ${target} /escape\n`);
    assert.equal(s.berth(['build', '-q', '-t', 'evil:1', ctx]).code, 0);
    fs.rmSync(ctx, { recursive: true, force: true });
    const r = run('--rm', '--tmpfs', '/escape/sub', 'evil:1', 'sh', '-c', `grep -c " /escape/sub " /proc/mounts; grep -c " ${target}/sub " /proc/mounts`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0\n1\n', 'the tmpfs landed at the link target inside the container');
    assert.deepEqual(fs.readdirSync(target), [], 'nothing was created on the host');
  });

  it('bad -v, --mount and --tmpfs values say what to write, and leave nothing', () => {
    const ids = s.engine.containers.listIds().length;
    const cases: Array<[string[], RegExp]> = [
      [['-v', 'data'], /container path must be absolute/],
      [['-v', 'a:/x:rx'], /unknown option "rx"; use ro or rw/],
      [['--mount', 'type=nfs,target=/x'], /type must be bind, volume or tmpfs/],
      [['--mount', 'type=volume,source=v'], /target is required/],
      [['--mount', 'type=bind,target=/x,colour=red'], /unknown field "colour"/],
      [['--tmpfs', 'run'], /must be absolute/],
      [['-v', 'one:/same', '-v', 'two:/same'], /Duplicate mount point: \/same/],
      [['-v', 'bad name!:/x'], /invalid characters for a local volume name/],
    ];
    for (const [flags, msg] of cases) {
      const r = run('--rm', ...flags, 'busybox', 'true');
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(s.engine.containers.listIds().length, ids);
    assert.doesNotMatch(s.berth(['volume', 'ls', '-q']).stdout, /^(one|two)$/m, 'a refused run made no volume');
    const rm = s.berth(['volume', 'rm', 'no-such-volume']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /no such volume: no-such-volume/);
  });

  it('leaves no mount on the host', () => {
    assert.deepEqual(hostMountsUnder(s.root), []);
    assert.deepEqual(hostMountsUnder(hostDir), []);
  });
});

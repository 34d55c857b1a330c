// The store is no way to root, layers cannot touch it, and commit, diff and
// export never follow a container's symlinks onto the host.
import { selfId } from '../kernel/engine/store/leases';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tar from 'tar-stream';
import { busyboxTar, cliPath, compileProbe, eventually, Result, TestStore, testStore } from './helpers';

let s: TestStore;
let probe: string;
const extraDirs: string[] = [];
before(async () => {
  s = await testStore('store-safety');
  probe = compileProbe(path.join(s.root, 'tools'));
});
after(async () => {
  await s.cleanup();
  for (const d of extraDirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string, mode: number): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `berth-test-${prefix}-`));
  fs.chmodSync(d, mode);
  extraDirs.push(d);
  return d;
}

async function tarOf(entries: Array<{ name: string; type?: 'file' | 'directory'; mode?: number; body?: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, uid: 0, gid: 0 }, e.body ?? Buffer.alloc(0), (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

// Runs a program as the unprivileged user nobody, with every id nobody's
// (runuser, as a login would; setpriv --reuid keeps the saved uid 0).
function asNobody(cmd: string[]): Result {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function findFile(dir: string, name: string): string | undefined {
  for (const d of fs.readdirSync(dir)) if (fs.existsSync(path.join(dir, d, name))) return path.join(dir, d, name);
  return undefined;
}

describe('the store is closed to other users', () => {
  let base: string;
  let env: NodeJS.ProcessEnv;
  const berth = (args: string[], e = env): Result => {
    const r = spawnSync(process.execPath, [cliPath, ...args], { env: e, encoding: 'utf8', timeout: 60000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  before(() => {
    // A parent anyone may cross, as /var/lib is: only the store's own mode protects it.
    base = tempDir('open-parent', 0o755);
    env = { ...s.env, BERTH_ROOT: path.join(base, 'store'), BERTH_RUN: path.join(base, 'run') };
  });
  after(async () => {
    berth(['rm', '-f', 'writer']);
  });

  it('is created 0700, and nobody cannot run a set-uid binary from an imported layer', async () => {
    const layer = path.join(base, 'setuid-layer.tar');
    fs.writeFileSync(layer, await tarOf([{ name: 'euid', mode: 0o4755, body: fs.readFileSync(probe) }]));
    const r = berth(['import', layer, 'setuid:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.statSync(env.BERTH_ROOT!).mode & 0o777, 0o700);
    assert.equal(fs.statSync(env.BERTH_RUN!).mode & 0o777, 0o700);
    const euid = findFile(path.join(env.BERTH_ROOT!, 'snapshots'), 'euid');
    assert.ok(euid, 'the layer was unpacked');
    assert.equal(fs.statSync(euid!).mode & 0o4000, 0o4000, 'the layer keeps its set-uid bit');
    const run = asNobody([euid!, 'euid']);
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(run.stdout, /euid=0/);
    assert.match(run.stderr, /Permission denied/);
    const reachable = path.join(base, 'probe');
    fs.copyFileSync(probe, reachable);
    fs.chmodSync(reachable, 0o755);
    assert.match(asNobody([reachable, 'euid']).stdout, /euid=65534/, 'nobody runs programs it can reach');
  });

  it("nobody cannot run a set-uid binary a container wrote into its upper directory", async () => {
    assert.equal(berth(['import', busyboxTar, 'busybox']).code, 0);
    const r = berth(['run', '-d', '--name', 'writer', '--network', 'none', '-v', `${path.dirname(probe)}:/t:ro`, 'busybox', 'sh', '-c', 'cp /t/probe /x && chmod 4755 /x && sleep 60']);
    assert.equal(r.code, 0, r.stderr);
    const upper = path.join(env.BERTH_ROOT!, 'containers', r.stdout.trim(), 'upper', 'x');
    assert.ok(await eventually(() => fs.existsSync(upper) && (fs.statSync(upper).mode & 0o4000) !== 0, 10000));
    const run = asNobody([upper, 'euid']);
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(run.stdout, /euid=0/);
  });

  it('is closed again at the next start when someone opened it', () => {
    fs.chmodSync(env.BERTH_ROOT!, 0o755);
    assert.equal(berth(['ps']).code, 0);
    assert.equal(fs.statSync(env.BERTH_ROOT!).mode & 0o777, 0o700);
  });

  it('refuses a shared, world-writable directory as its root instead of closing it', () => {
    const shared = tempDir('shared', 0o1777);
    const r = berth(['ps'], { ...env, BERTH_ROOT: shared });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /writable by every user.*BERTH_ROOT/);
    assert.equal(fs.statSync(shared).mode & 0o7777, 0o1777, 'left as it was');
  });
});

describe('layers cannot touch the store', () => {
  it('refuses a whiteout of ".." and leaves the store\'s tmp alone', async () => {
    // The work directory of another Berth process that is alive (this one's).
    const marker = path.join(s.root, 'tmp', selfId(), 'other-import-in-progress');
    fs.mkdirSync(marker, { recursive: true });
    fs.writeFileSync(path.join(marker, 'data'), 'x');
    for (const name of ['.wh...', 'a/.wh...', 'a/.wh..', '.wh.']) {
      const file = path.join(s.root, 'evil.tar');
      fs.writeFileSync(file, await tarOf([{ name: 'a/', type: 'directory', mode: 0o755 }, { name }]));
      const r = s.berth(['import', file, 'evil:1']);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /whiteout of .* refusing to unpack it/);
      assert.ok(fs.existsSync(path.join(marker, 'data')), `${name} deleted the store's tmp`);
    }
    assert.equal(s.berth(['images', '-q', 'evil']).stdout.trim(), '');
  });

  it('refuses a layer cut off in the middle, at a block boundary or in a file', () => {
    const whole = fs.readFileSync(busyboxTar);
    for (const cut of [Math.floor(whole.length / 2 / 512) * 512, Math.floor(whole.length / 2) + 100, whole.length - 1024]) {
      const file = path.join(s.root, 'cut.tar');
      fs.writeFileSync(file, whole.subarray(0, cut));
      const r = s.berth(['import', file, 'cut:1']);
      assert.equal(r.code, 1, `cut at ${cut}: ${r.stderr}`);
      assert.match(r.stderr, /truncated/);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    assert.equal(s.berth(['images', '-q', 'cut']).stdout.trim(), '');
  });

  it('refuses an image archive cut off in the middle, and leaves nothing in tmp', () => {
    const archive = path.join(s.root, 'bb.tar');
    assert.equal(s.berth(['save', '-o', archive, 'busybox']).code, 0);
    const whole = fs.readFileSync(archive);
    fs.writeFileSync(archive, whole.subarray(0, Math.floor(whole.length / 2) + 7));
    const before = fs.readdirSync(path.join(s.root, 'tmp')).sort();
    const r = s.berth(['load', '-i', archive]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /truncated/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.deepEqual(fs.readdirSync(path.join(s.root, 'tmp')).sort(), before);
  });
});

describe("commit, diff and export never follow a container's symlinks", () => {
  let hostDir: string;
  before(() => {
    hostDir = tempDir('hostdir', 0o755);
    fs.writeFileSync(path.join(hostDir, 'host-only-name'), 'HOST-SECRET\n');
    // /x flips between a directory of the container's and a symlink to a host directory.
    const r = s.berth(['run', '-d', '--name', 'flipper', '--network', 'none', 'busybox', 'sh', '-c',
      `while :; do rm -rf /x; mkdir /x; echo inner > /x/inner; rm -rf /x; ln -s ${hostDir} /x; done`]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => {
    s.berth(['rm', '-f', 'flipper']);
  });

  const clean = (r: Result) => {
    assert.ok(r.code === 0 || (r.code === 1 && /changed while Berth was reading it/.test(r.stderr)), `${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|ENOENT|\n\s+at /);
  };

  it('commit, with and without --pause, never takes a host file into the layer', () => {
    // Plain commit pauses, as docker's; --pause=false reads a moving tree through directory fds.
    for (const flags of [[], [], [], ['--pause=false'], ['--pause=false'], ['--pause=false']]) clean(s.berth(['commit', ...flags, 'flipper', 'flipped:1']));
    const blobs = path.join(s.root, 'images', 'blobs', 'sha256');
    for (const b of fs.readdirSync(blobs)) assert.ok(!fs.readFileSync(path.join(blobs, b)).includes('HOST-SECRET'), `blob ${b} holds a host file`);
    assert.ok(s.berth(['images', '-q', 'flipped:1']).stdout.trim(), 'at least one commit landed');
  });

  it('diff lists only what the container has', () => {
    for (let i = 0; i < 10; i++) {
      const r = s.berth(['diff', 'flipper']);
      clean(r);
      assert.doesNotMatch(r.stdout, /host-only-name/);
    }
  });

  it('export writes only what the container has', () => {
    const out = path.join(s.root, 'flipper.tar');
    for (let i = 0; i < 3; i++) {
      const r = s.berth(['export', '-o', out, 'flipper']);
      clean(r);
      if (r.code === 0) assert.ok(!fs.readFileSync(out).includes('HOST-SECRET'));
    }
  });
});

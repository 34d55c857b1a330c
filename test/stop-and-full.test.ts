// Two ways a long operation ends early: the user presses Ctrl-C, or the
// disk fills. Either way the CLI says so in plain words, and the store is
// left whole, with nothing half-made in it.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { busyboxTar, buildContext, cliPath, TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('stop-and-full');
});
after(async () => {
  await s.cleanup();
});

describe('Ctrl-C in the CLI', () => {
  it('stops a build within a second: exit 130, its RUN container gone, no image made', async () => {
    const ctx = buildContext(s, 'slow', { Dockerfile: 'FROM busybox\nRUN echo started; sleep 120\n' });
    const child = spawn(process.execPath, [cliPath, 'build', '--network', 'none', '-t', 'never-made', ctx], { env: s.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !out.includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /started/);
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    const took = Date.now() - t0;
    assert.equal(code, 130, err);
    assert.ok(took < 3000, `it took ${took} ms to stop`);
    assert.match(err, /the build was interrupted; nothing half-made was kept/);
    assert.equal(s.berth(['ps', '-aq']).stdout, '', 'the RUN container was left');
    assert.equal(s.berth(['images', '-q', 'never-made']).stdout, '');
    assert.equal(s.berth(['system', 'check']).code, 0);
  });
});

describe('a full disk', () => {
  // The store on an 8 MiB tmpfs, in a mount namespace of the test's own.
  function onSmallDisk(script: string): { code: number | null; out: string } {
    const dir = fs.mkdtempSync(path.join(s.root, 'small-'));
    const env = { ...s.env, BERTH_ROOT: path.join(dir, 'root'), BERTH_RUN: path.join(dir, 'root', 'run'), CLI: `${process.execPath} ${cliPath}`, BUSYBOX: busyboxTar, DIR: dir };
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=8m,mode=700 berth-small "$DIR" && mkdir "$DIR/root" && ${script}`], { env, encoding: 'utf8', timeout: 120000 });
    fs.rmSync(dir, { recursive: true, force: true });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('says which disk and which operation, keeps nothing half-made, and the store still works', () => {
    const ctx = buildContext(s, 'big', { Dockerfile: 'FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=4 && echo wrote\nRUN dd if=/dev/zero of=/big2 bs=1M count=4\n' });
    const r = onSmallDisk([
      `$CLI import -c 'CMD ["sh"]' "$BUSYBOX" busybox >/dev/null || exit 9`,
      `$CLI build --network none -t too-big ${ctx} >/dev/null 2>"$DIR/err"; echo "build exit $?"; cat "$DIR/err"`,
      '$CLI images --format "{{.Repository}}"',
      '$CLI system check; echo "check exit $?"',
      'echo "tmp: $(ls "$DIR/root/tmp" 2>/dev/null | wc -l) trash: $(ls "$DIR/root/trash" 2>/dev/null | wc -l)"',
      '$CLI run --rm --network none busybox echo still-runs',
    ].join('; '));
    assert.notEqual(r.code, 9, r.out);
    assert.match(r.out, /build exit 1/);
    assert.match(r.out, /no space left on the device holding \S+\/root during build \(.*\); nothing half-made was kept: free space there/);
    assert.doesNotMatch(r.out, /internal error|File exists|\n\s+at /);
    assert.doesNotMatch(r.out, /too-big/);
    assert.match(r.out, /check exit 0/);
    assert.match(r.out, /tmp: 0 trash: 0/);
    assert.match(r.out, /still-runs/);
  });
});

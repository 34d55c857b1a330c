// `npm start` and `npm test` run the set-up each time; it must skip what is
// up to date instead of rebuilding the native core and the TypeScript.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cliPath, repoRoot } from './helpers';

const outputs = [
  path.join(repoRoot, 'native', 'build', 'Release', 'berth.node'),
  path.join(repoRoot, 'native', 'build', 'Release', 'berth-shim'),
  path.join(repoRoot, 'dist', 'kernel', 'cli', 'main.js'),
  path.join(repoRoot, 'dist', 'kernel', 'engine', 'index.js'),
];

describe('set-up', () => {
  it('a second native and TypeScript build leaves every output as it was', () => {
    const before = outputs.map((f) => fs.statSync(f).mtimeMs);
    const gyp = ['--no-install', 'node-gyp', 'build', ...(fs.existsSync('/usr/include/node/node_api.h') ? ['--nodedir=/usr'] : []), '--directory', 'native'];
    const native = spawnSync('npx', gyp, { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(native.status, 0, native.stderr);
    const ts = spawnSync('npx', ['--no-install', 'tsc', '-p', '.'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(ts.status, 0, ts.stdout);
    assert.deepEqual(outputs.map((f) => fs.statSync(f).mtimeMs), before, 'an up-to-date output was rebuilt');
  });

  it("keeps V8's code cache only in a directory of the user's own that no one else may write", () => {
    const base = fs.mkdtempSync(path.join(require('os').tmpdir(), 'berth-cache-'));
    try {
      const run = () => spawnSync(process.execPath, [cliPath, 'version'], { env: { ...process.env, XDG_CACHE_HOME: base }, encoding: 'utf8' });
      const dir = path.join(base, 'berth');
      fs.mkdirSync(dir, { mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      assert.equal(run().status, 0);
      assert.deepEqual(fs.readdirSync(dir), [], 'a world-writable cache directory was used');
      fs.chmodSync(dir, 0o700);
      assert.equal(run().status, 0);
      assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('compile-')).length, 1);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('berth --help lists every command group, network and volume included, as they are now', () => {
    const r = spawnSync(process.execPath, [cliPath, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Management Commands:\n(  \w+ +\S.*\n)+/m);
    for (const group of ['container', 'image', 'network', 'volume']) assert.match(r.stdout, new RegExp(`^  ${group} +Manage ${group}s$`, 'm'));
    assert.match(r.stdout, /^  install +Install the Berth kernelspec for Jupyter/m);
    assert.doesNotMatch(r.stdout, /lands with|comes next/);
  });
});

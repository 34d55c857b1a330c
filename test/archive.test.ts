// save, load and export, and their interoperability with real peers from
// Debian: skopeo (docker-archive and oci-archive) and umoci (OCI layout).
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TestStore, testStore } from './helpers';

let s: TestStore;
let dir: string;
before(async () => {
  s = await testStore('archive');
  dir = path.join(s.root, 'work');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo layered > /l.txt && rm /bin/vi\nCMD ["cat", "/l.txt"]\n');
  assert.equal(s.berth(['build', '-q', '-t', 'saved:v1', dir]).code, 0);
  assert.equal(s.berth(['save', '-o', path.join(dir, 'img.tar'), 'saved:v1']).code, 0);
});
after(async () => {
  await s.cleanup();
});

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('save and load', () => {
  it('skopeo inspects what save writes, as docker-archive and as oci-archive', () => {
    const layers = JSON.parse(s.berth(['inspect', '-f', '{{json .RootFS.Layers}}', 'saved:v1']).stdout);
    const d = JSON.parse(run('skopeo', ['inspect', `docker-archive:${dir}/img.tar`]));
    assert.deepEqual(d.Layers, layers);
    const o = JSON.parse(run('skopeo', ['inspect', `oci-archive:${dir}/img.tar:v1`]));
    assert.deepEqual(o.Layers, layers);
    assert.equal(o.Os, 'linux');
  });

  it('umoci unpacks the OCI layout Berth writes', () => {
    fs.mkdirSync(path.join(dir, 'layout'));
    run('tar', ['xf', 'img.tar', '-C', 'layout']);
    assert.equal(run('umoci', ['ls', '--layout', 'layout']).trim(), 'v1');
    run('umoci', ['unpack', '--image', 'layout:v1', 'bundle']);
    assert.equal(fs.readFileSync(path.join(dir, 'bundle', 'rootfs', 'l.txt'), 'utf8'), 'layered\n');
    assert.ok(!fs.existsSync(path.join(dir, 'bundle', 'rootfs', 'bin', 'vi')), 'the whiteout removed /bin/vi');
    assert.ok(fs.existsSync(path.join(dir, 'bundle', 'rootfs', 'bin', 'sh')));
  });

  it('an image skopeo copies into an oci-archive loads and runs', () => {
    run('skopeo', ['copy', `docker-archive:${dir}/img.tar`, `oci-archive:${dir}/copied.tar:copied`]);
    assert.equal(s.berth(['rmi', 'saved:v1']).code, 0);
    const r = s.berth(['load', '-i', path.join(dir, 'copied.tar')]);
    assert.equal(r.stdout, 'Loaded image: copied:latest\n', r.stderr);
    assert.equal(s.berth(['run', '--rm', 'copied']).stdout, 'layered\n');
    assert.match(s.berth(['run', '--rm', 'copied', 'sh', '-c', 'ls /bin/vi 2>&1; true']).stdout, /No such file/);
  });

  it('load reads its own archive from stdin and restores the name', () => {
    const r = spawnSync(process.execPath, [require('./helpers').cliPath, 'load'], { env: s.env, input: fs.readFileSync(path.join(dir, 'img.tar')), encoding: 'utf8' });
    assert.equal(r.stdout, 'Loaded image: saved:v1\n', r.stderr);
    assert.equal(s.berth(['run', '--rm', 'saved:v1']).stdout, 'layered\n');
  });

  it('refuses a corrupt layer and loads nothing', () => {
    fs.mkdirSync(path.join(dir, 'bad'));
    run('tar', ['xf', 'img.tar', '-C', 'bad']);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'bad', 'manifest.json'), 'utf8'));
    const layer = path.join(dir, 'bad', manifest[0].Layers[1]);
    const bytes = fs.readFileSync(layer);
    bytes[600] ^= 0xff; // flip a byte of file content inside the tar
    fs.writeFileSync(layer, bytes);
    manifest[0].RepoTags = ['corrupt:v1'];
    fs.writeFileSync(path.join(dir, 'bad', 'manifest.json'), JSON.stringify(manifest));
    run('tar', ['cf', 'bad.tar', '-C', 'bad', '.']);
    const r = s.berth(['load', '-i', path.join(dir, 'bad.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not match its content .* the archive is corrupt; nothing was loaded/);
    assert.equal(s.berth(['images', '-q', 'corrupt']).stdout, '');
  });

  it('refuses an OCI archive whose layer blob does not match its digest', () => {
    fs.mkdirSync(path.join(dir, 'badoci'));
    run('tar', ['xf', 'img.tar', '-C', 'badoci']);
    fs.rmSync(path.join(dir, 'badoci', 'manifest.json')); // OCI layout only
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'badoci', 'index.json'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'badoci', 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    const blob = path.join(dir, 'badoci', 'blobs', 'sha256', manifest.layers[1].digest.slice(7));
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length - 2000] ^= 0x01;
    fs.writeFileSync(blob, bytes);
    run('tar', ['cf', 'badoci.tar', '-C', 'badoci', '.']);
    const r = s.berth(['load', '-i', path.join(dir, 'badoci.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /blob sha256:[0-9a-f]{12} does not match its digest .* nothing was loaded/);
  });

  it('refuses something that is not an image archive', () => {
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'hello');
    run('tar', ['cf', 'plain.tar', 'plain.txt']);
    const r = s.berth(['load', '-i', path.join(dir, 'plain.tar')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /neither a docker-archive \(manifest.json\) nor an oci-archive \(index.json\)/);
  });
});

describe('export', () => {
  it("writes the container's filesystem as it sees it, changes included", () => {
    s.berth(['run', '--name', 'exp', 'saved:v1', 'sh', '-c', 'echo mine > /mine.txt; rm /l.txt']);
    assert.equal(s.berth(['export', '-o', path.join(dir, 'fs.tar'), 'exp']).code, 0);
    const list = run('tar', ['tf', 'fs.tar']).split('\n');
    assert.ok(list.includes('mine.txt'));
    assert.ok(list.includes('bin/busybox'));
    assert.ok(!list.includes('l.txt'), 'a file deleted in the container is not exported');
    assert.ok(!list.includes('bin/vi'));
    assert.ok(!list.some((n) => n.includes('.wh.')), 'no whiteout markers in an export');
    // The export imports back into a runnable image.
    assert.equal(s.berth(['import', '-c', 'CMD ["cat", "/mine.txt"]', path.join(dir, 'fs.tar'), 'reimported']).code, 0);
    assert.equal(s.berth(['run', '--rm', 'reimported']).stdout, 'mine\n');
  });
});

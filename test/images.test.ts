// import, images, shared layers, and layer tarballs that try to escape.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tar from 'tar-stream';
import { TestStore, testStore } from './helpers';
import { unpackLayer } from '../kernel/engine/images/unpack';

let s: TestStore;
before(async () => {
  s = await testStore('images');
});
after(async () => {
  await s.cleanup();
});

type Entry = Parameters<ReturnType<typeof tar.pack>["entry"]>[0] & { body?: string };
async function makeTar(file: string, entries: Entry[], gzip = false): Promise<void> {
  const pack = tar.pack();
  for (const e of entries) {
    const { body, ...h } = e;
    if (body === undefined) pack.entry(h);
    else pack.entry(h, body);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  fs.writeFileSync(file, gzip ? zlib.gzipSync(buf) : buf);
}

describe('images', () => {
  it('lists imported images in docker columns', () => {
    const r = s.berth(['images']);
    assert.match(r.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
    assert.match(r.stdout, /^busybox\s+latest\s+[a-f0-9]{12}\s+(Less than a second|\d+ seconds?) ago\s+[\d.]+MB$/m);
    assert.match(s.berth(['images', '-q']).stdout, /^[a-f0-9]{12}\n$/);
  });

  it('imports a gzip rootfs with --change, tag and message, and runs it', async () => {
    const file = path.join(s.root, 'tiny.tar.gz');
    const bb = fs.readFileSync('/bin/busybox');
    const pack = tar.pack();
    pack.entry({ name: 'bin/', type: 'directory', mode: 0o755 });
    pack.entry({ name: 'bin/busybox', mode: 0o755, size: bb.length }, bb);
    pack.entry({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' });
    pack.entry({ name: 'hello.txt', mode: 0o644 }, 'hello from a gzip layer\n');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(chunks)));
    const r = s.berth(['import', '-c', 'CMD ["/bin/sh", "-c", "/bin/busybox cat /hello.txt"]', '-c', 'ENV GREETING=hi', '-m', 'a test image', file, 'tiny:v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[a-f0-9]{64}\n$/);
    assert.equal(s.berth(['run', '--rm', 'tiny:v1']).stdout, 'hello from a gzip layer\n');
    const [img] = JSON.parse(s.berth(['inspect', 'tiny:v1']).stdout);
    assert.deepEqual(img.RepoTags, ['tiny:v1']);
    assert.deepEqual(img.Config.Env, ['GREETING=hi']);
    assert.equal(img.RootFS.Layers.length, 1);
    // The layer is stored under its diff ID in an OCI layout.
    assert.ok(fs.existsSync(path.join(s.root, 'images', 'blobs', 'sha256', img.RootFS.Layers[0].slice(7))));
    assert.equal(JSON.parse(fs.readFileSync(path.join(s.root, 'images', 'oci-layout'), 'utf8')).imageLayoutVersion, '1.0.0');
  });

  it('shares one unpacked layer between containers through overlayfs', () => {
    const before = fs.readdirSync(path.join(s.root, 'snapshots')).length;
    const a = s.berth(['run', '-d', 'busybox', 'sleep', '30']).stdout.trim();
    const b = s.berth(['run', '-d', 'busybox', 'sleep', '30']).stdout.trim();
    assert.equal(fs.readdirSync(path.join(s.root, 'snapshots')).length, before);
    const [ia] = JSON.parse(s.berth(['inspect', a]).stdout);
    const [ib] = JSON.parse(s.berth(['inspect', b]).stdout);
    assert.equal(ia.GraphDriver.Data.LowerDir, ib.GraphDriver.Data.LowerDir);
    assert.notEqual(ia.GraphDriver.Data.UpperDir, ib.GraphDriver.Data.UpperDir);
    s.berth(['rm', '-f', a, b]);
  });
});

describe('unpacking refuses layers that escape their directory', () => {
  const outside = () => path.join(s.root, 'outside');
  const cases: Array<[string, Entry[], RegExp]> = [
    ['an absolute path', [{ name: '/etc/evil', body: 'x' }], /absolute path/],
    ['a ".." path', [{ name: 'a/../../evil', body: 'x' }], /points outside the layer/],
    ['writing through a symlink', [
      { name: 'link', type: 'symlink', linkname: '../outside' },
      { name: 'link/evil', body: 'x' },
    ], /written through the symlink "link"/],
    ['a hard link to outside', [{ name: 'hl', type: 'link', linkname: '../outside/secret' }], /points outside the layer/],
  ];
  for (const [what, entries, message] of cases) {
    it(what, async () => {
      fs.mkdirSync(outside(), { recursive: true });
      fs.writeFileSync(path.join(outside(), 'secret'), 'keep');
      const file = path.join(s.root, 'evil.tar');
      const dest = path.join(s.root, 'unpack-target');
      fs.rmSync(dest, { recursive: true, force: true });
      await makeTar(file, entries);
      await assert.rejects(unpackLayer(file, dest), message);
      assert.deepEqual(fs.readdirSync(outside()), ['secret']);
      assert.equal(fs.readFileSync(path.join(outside(), 'secret'), 'utf8'), 'keep');
      assert.ok(!fs.existsSync('/etc/evil'));
    });
  }

  it('a corrupt tarball is refused by import with a clear error and leaves no image', async () => {
    const file = path.join(s.root, 'corrupt.tar.gz');
    fs.writeFileSync(file, Buffer.concat([zlib.gzipSync(Buffer.alloc(2048, 7)).subarray(0, 30)]));
    const before = s.berth(['images', '-q']).stdout;
    const r = s.berth(['import', file, 'corrupt']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /could not be read as a tarball|not a valid tar archive/);
    assert.equal(s.berth(['images', '-q']).stdout, before);
  });

  it('turns OCI whiteouts into overlayfs whiteouts', async () => {
    const file = path.join(s.root, 'wh.tar');
    const dest = path.join(s.root, 'wh-target');
    await makeTar(file, [
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/.wh.gone', body: '' },
      { name: 'opaque/', type: 'directory', mode: 0o755 },
      { name: 'opaque/.wh..wh..opq', body: '' },
    ]);
    await unpackLayer(file, dest);
    const st = fs.lstatSync(path.join(dest, 'etc', 'gone'));
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
  });
});

// An untrusted Dockerfile and build context against the machine that
// builds them: every path a build resolves stays inside its root (the
// context, a stage, the image being built), links and ".." included. Each
// case is an attack that reached the host before the one resolver
// (kernel/engine/store/in-root.ts). Run as root here, and rootless through
// test/rootless.test.ts.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildContext, TestStore, testStore } from './helpers';

let s: TestStore;
// A directory of the "host": what the attacker wants to read or write.
let host: string;
const SECRET = 'HOST-SECRET-7f3a';

before(async () => {
  s = await testStore('build-escape');
  host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-host-'));
  fs.chmodSync(host, 0o755);
  fs.writeFileSync(path.join(host, 'secret'), `${SECRET}\n`);
});
after(async () => {
  fs.rmSync(host, { recursive: true, force: true });
  await s.cleanup();
});

const build = (name: string, files: Record<string, string>, links: Record<string, string> = {}) => {
  const dir = buildContext(s, name, files);
  for (const [at, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(dir, at)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, at));
  }
  return s.berth(['build', '--network', 'none', '-t', name, dir], { timeoutMs: 120000 });
};
const cat = (image: string, file: string) => s.berth(['run', '--rm', '--network', 'none', image, 'cat', file]);
const hostUntouched = () => assert.deepEqual(fs.readdirSync(host).sort(), ['secret'], 'the build wrote into the host directory');

describe('a build cannot reach the host', () => {
  it('COPY --from climbing out of the stage with /../.. finds nothing outside it', () => {
    const r = build('climb', { Dockerfile: `FROM busybox AS s\nFROM busybox\nCOPY --from=s /../../../../../../../..${host}/secret /got\n` });
    assert.notEqual(r.code, 0, 'the stage has no such file; the build must fail');
    assert.match(r.stderr, /not found in that stage/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
  });

  it("COPY --from through a stage's absolute link copies the stage's file, not the host's", () => {
    const r = build('stagelink', {
      Dockerfile: `FROM busybox AS s\nRUN mkdir -p ${host} && echo stage-file > ${host}/secret && ln -s ${host} /link\nFROM busybox\nCOPY --from=s /link/secret /got\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cat('stagelink', '/got').stdout, 'stage-file\n');
  });

  it('COPY of a context path through a link to a host directory does not read the host', () => {
    const r = build('ctxlink', { Dockerfile: 'FROM busybox\nCOPY l/secret /got\n' }, { l: host });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found in build context/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
  });

  it('a link staged by one COPY source leads the next one into the image, not onto the host', () => {
    const r = build('twosrc', { Dockerfile: 'FROM busybox\nCOPY a b /dst/\n', 'b/x/evil': 'planted\n' }, { 'a/x': host });
    assert.equal(r.code, 0, r.stderr);
    hostUntouched();
    // The file went where the link points inside the image.
    assert.equal(cat('twosrc', `${host}/evil`).stdout, 'planted\n');
  });

  it("a stage whose lower layer has a link and whose upper layer has a directory copies the stage's directory", () => {
    const r = build('layered', {
      Dockerfile: `FROM busybox AS s\nRUN ln -s ${host} /d\nRUN rm /d && mkdir /d && echo mine > /d/planted\nFROM busybox\nCOPY --from=s /d/ /out/\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    hostUntouched();
    assert.equal(cat('layered', '/out/planted').stdout, 'mine\n');
  });

  it('a link already in the image leads a COPY destination inside the image', () => {
    const r = build('destlink', { Dockerfile: `FROM busybox\nRUN ln -s ${host} /etc/out\nCOPY f /etc/out/planted\n`, f: 'planted\n' });
    assert.equal(r.code, 0, r.stderr);
    hostUntouched();
    assert.equal(cat('destlink', `${host}/planted`).stdout, 'planted\n');
  });

  it('RUN --mount=type=bind,from=STAGE,source=LINK mounts the stage\'s directory, read-only or rw', () => {
    const r = build('mountlink', {
      Dockerfile: [
        'FROM busybox AS s',
        `RUN mkdir -p ${host} && echo stage-file > ${host}/secret && ln -s ${host} /link`,
        'FROM busybox',
        'RUN --mount=type=bind,from=s,source=/link,target=/m cat /m/secret > /seen-ro',
        'RUN --mount=type=bind,from=s,source=/link,target=/m,rw cat /m/secret > /seen-rw && touch /m/planted',
      ].join('\n'),
    });
    assert.equal(r.code, 0, r.stderr);
    hostUntouched();
    assert.equal(cat('mountlink', '/seen-ro').stdout, 'stage-file\n');
    assert.equal(cat('mountlink', '/seen-rw').stdout, 'stage-file\n');
  });

  it('a build step cannot turn its mount points into links that make Berth delete host files', () => {
    // The stubs /stub, /stub/a and /stub/a/m are Berth's to remove after
    // the step; the step moves them away and puts a link to the host there.
    fs.mkdirSync(path.join(host, 'a', 'm'), { recursive: true });
    try {
      const r = build('stublink', { Dockerfile: `FROM busybox\nRUN --mount=type=tmpfs,target=/stub/a/m mv /stub /moved && ln -s ${host} /stub\n` });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.existsSync(path.join(host, 'a', 'm')), 'the stub clean-up removed a host directory');
    } finally {
      fs.rmSync(path.join(host, 'a'), { recursive: true, force: true });
    }
  });

  it('COPY --chown reads the image\'s own passwd, even when it is a link', () => {
    const r = build('chownlink', { Dockerfile: `FROM busybox\nRUN mkdir -p /x && echo 'eve:x:4242:4242::/:/bin/sh' > /x/pw && rm -f /etc/passwd && ln -s /x/pw /etc/passwd\nCOPY --chown=eve f /f\n`, f: 'x' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.berth(['run', '--rm', '--network', 'none', 'chownlink', 'stat', '-c', '%u', '/f']).stdout.trim(), '4242');
  });
});

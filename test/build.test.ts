// Dockerfile builds and the build cache, on real builds.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { buildContext, TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('build');
});
after(async () => {
  await s.cleanup();
});

const context = (name: string, files: Record<string, string>): string => buildContext(s, name, files);

function build(dir: string, ...flags: string[]) {
  const r = s.berth(['build', ...flags, dir], { timeoutMs: 120000 });
  return { ...r, cached: (r.stdout.match(/Using cache/g) ?? []).length };
}

const helloDockerfile = 'FROM busybox\nRUN mkdir -p /app && echo deps > /app/deps.txt\nCOPY index.js /app/\nWORKDIR /app\nENV NODE_ENV=production\nCMD ["cat", "index.js"]\n';

describe('the seeds\' hello lab', () => {
  it('rebuilds from COPY on after index.js changes, sharing the lower layers', () => {
    const dir = context('hello', { 'index.js': 'console.log("hello")\n', Dockerfile: helloDockerfile });
    const v1 = build(dir, '-t', 'hello:v0.1');
    assert.equal(v1.code, 0, v1.stderr);
    assert.match(v1.stdout, /^Step 1\/6 : FROM busybox$/m);
    assert.match(v1.stdout, /^Successfully tagged hello:v0.1$/m);
    assert.equal(v1.cached, 0);
    fs.appendFileSync(path.join(dir, 'index.js'), 'console.log("v0.2")\n');
    const v2 = build(dir, '-t', 'hello:v0.2');
    assert.equal(v2.code, 0, v2.stderr);
    // FROM has no cache line; RUN comes from the cache; COPY and after rebuild.
    assert.match(v2.stdout, /Step 2\/6 : RUN .*\n ---> Using cache\n/);
    assert.doesNotMatch(v2.stdout, /Step 3\/6 : COPY .*\n ---> Using cache/);
    assert.equal(v2.cached, 1);
    const layers = (ref: string) => JSON.parse(s.berth(['inspect', '-f', '{{json .RootFS.Layers}}', ref]).stdout) as string[];
    const [a, b] = [layers('hello:v0.1'), layers('hello:v0.2')];
    assert.equal(a.length, 3);
    assert.deepEqual(a.slice(0, 2), b.slice(0, 2));
    assert.notEqual(a[2], b[2]);
    assert.equal(s.berth(['run', '--rm', 'hello:v0.2']).stdout, 'console.log("hello")\nconsole.log("v0.2")\n');
    assert.equal(s.berth(['run', '--rm', 'hello:v0.1', 'cat', 'deps.txt']).stdout, 'deps\n');
  });

  it('keeps the whole cache when a file is only touched, and --no-cache uses none', () => {
    const dir = path.join(s.root, 'ctx', 'hello');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'index.js'), later, later);
    assert.equal(build(dir, '-t', 'hello:v0.2').cached, 5);
    const nc = build(dir, '--no-cache', '-t', 'hello:fresh');
    assert.equal(nc.code, 0);
    assert.equal(nc.cached, 0);
  });

  it('history lists each step with what created it', () => {
    const h = s.berth(['history', 'hello:v0.1']).stdout;
    assert.match(h, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/m);
    assert.match(h, /#\(nop\)\s+CMD \["cat", "index.js"\]\s+0B/);
    assert.match(h, /#\(nop\) COPY index.js \/app\/\s+[\d.]+kB/);
    assert.match(h, /\/bin\/sh -c mkdir -p \/app/);
  });
});

describe('instructions', () => {
  it('ENV, ARG with --build-arg, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, MAINTAINER', () => {
    const dir = context('meta', {
      Dockerfile: [
        'ARG BASE=busybox', 'FROM ${BASE}', 'MAINTAINER Ada <ada@example.org>', 'ARG GREETING=hi', 'ENV A=1 B="two words"', 'ENV LEGACY old style',
        'ENV C=${A}-${GREETING}', 'WORKDIR /srv', 'WORKDIR data', 'RUN echo "$GREETING $A $(pwd)" > /srv/data/out.txt',
        'LABEL org.example.team="lab" version=2', 'EXPOSE 8080 53/udp', 'VOLUME ["/cache"]', 'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=30s --retries=2 CMD wget -q localhost || exit 1', 'SHELL ["/bin/sh", "-ec"]', 'USER nobody',
      ].join('\n') + '\n',
    });
    const r = build(dir, '--build-arg', 'GREETING=hello', '-t', 'meta');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [img] = JSON.parse(s.berth(['inspect', 'meta']).stdout);
    const cfg = img.Config;
    assert.ok(cfg.Env.includes('A=1') && cfg.Env.includes('B=two words') && cfg.Env.includes('LEGACY=old style') && cfg.Env.includes('C=1-hello'), cfg.Env.join(' '));
    assert.ok(!cfg.Env.some((e: string) => e.startsWith('GREETING=')), 'ARG values are not kept in the image');
    assert.equal(cfg.WorkingDir, '/srv/data');
    assert.equal(cfg.User, 'nobody');
    assert.deepEqual(cfg.Labels, { 'org.example.team': 'lab', version: '2' });
    assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['53/udp', '8080/tcp']);
    assert.deepEqual(Object.keys(cfg.Volumes), ['/cache']);
    assert.equal(cfg.StopSignal, 'SIGINT');
    assert.deepEqual(cfg.Healthcheck.Test, ['CMD-SHELL', 'wget -q localhost || exit 1']);
    assert.equal(cfg.Healthcheck.Interval, 30e9);
    assert.deepEqual(cfg.Shell, ['/bin/sh', '-ec']);
    assert.equal(img.Author, 'Ada <ada@example.org>');
    assert.equal(s.berth(['run', '--rm', 'meta', 'cat', '/srv/data/out.txt']).stdout, 'hello 1 /srv/data\n');
  });

  it('COPY --chown and --chmod, directories, wildcards and .dockerignore', () => {
    const dir = context('copy', {
      Dockerfile: 'FROM busybox\nCOPY --chown=nobody:nogroup --chmod=640 conf/app.conf /etc/app/\nCOPY src/ /src/\nCOPY *.txt /notes/\nCMD ["ls", "-R", "/src", "/notes"]\n',
      'conf/app.conf': 'key=value\n', 'src/a.txt': 'a', 'src/lib/b.txt': 'b', 'src/secret.key': 'no', 'one.txt': '1', 'two.txt': '2', 'big.log': 'skip',
      '.dockerignore': 'src/*.key\n**/*.log\n',
    });
    const r = build(dir, '-t', 'copy');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = s.berth(['run', '--rm', 'copy', 'sh', '-c', 'stat -c "%U %G %a" /etc/app/app.conf; find /src /notes | sort']).stdout;
    assert.equal(out, 'nobody nogroup 640\n/notes\n/notes/one.txt\n/notes/two.txt\n/src\n/src/a.txt\n/src/lib\n/src/lib/b.txt\n');
  });

  it('ADD extracts a local tar archive and fetches a URL', async () => {
    const srcDir = path.join(s.root, 'tarsrc');
    fs.mkdirSync(path.join(srcDir, 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(srcDir, 'pkg', 'data.csv'), 'x,y\n1,2\n');
    const dir = context('add', {});
    spawnSync('tar', ['-czf', path.join(dir, 'pkg.tar.gz'), '-C', srcDir, 'pkg']);
    const server = http.createServer((req, res) => res.end(req.url === '/model.txt' ? 'weights\n' : ''));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nADD pkg.tar.gz /opt/\nADD http://127.0.0.1:${port}/model.txt /models/\n`);
      const r = await s.berthAsync(['build', '-t', 'added', dir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      server.close();
    }
    assert.equal(s.berth(['run', '--rm', 'added', 'cat', '/opt/pkg/data.csv', '/models/model.txt']).stdout, 'x,y\n1,2\nweights\n');
  });

  it('here-documents in RUN and COPY, and the escape directive', () => {
    const dir = context('heredoc', {
      Dockerfile: '# escape=`\nFROM busybox\nRUN <<EOF\necho line one > /a.txt\necho line two >> /a.txt\nEOF\nCOPY <<EOF /etc/motd\nwelcome\nEOF\nRUN echo joined `\n  words > /b.txt\n',
    });
    const r = build(dir, '-t', 'heredoc');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(s.berth(['run', '--rm', 'heredoc', 'cat', '/a.txt', '/etc/motd', '/b.txt']).stdout, 'line one\nline two\nwelcome\njoined words\n');
  });

  it('ONBUILD triggers run in builds FROM the image', () => {
    const base = context('onbuild-base', { Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /onbuild.txt\n' });
    assert.equal(build(base, '-t', 'onbase').code, 0);
    const child = context('onbuild-child', { Dockerfile: 'FROM onbase\nCMD ["cat", "/onbuild.txt"]\n' });
    assert.equal(build(child, '-t', 'onchild').code, 0);
    assert.equal(s.berth(['run', '--rm', 'onchild']).stdout, 'triggered\n');
  });

  it('multi-stage builds with COPY --from, --target, -f and several -t', () => {
    const dir = context('multi', {
      'build.Dockerfile': 'FROM busybox AS builder\nRUN echo compiled > /artifact\nFROM scratch AS tiny\nCOPY --from=builder /artifact /artifact\nCOPY --from=builder /bin/busybox /bin/cat\nCMD ["/bin/cat", "/artifact"]\nFROM busybox AS debug\nRUN echo debug > /d\n',
    });
    const r = build(dir, '-f', path.join(dir, 'build.Dockerfile'), '--target', 'tiny', '-t', 'multi:a', '-t', 'multi:b');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /RUN echo debug/);
    assert.match(r.stdout, /Successfully tagged multi:a\nSuccessfully tagged multi:b/);
    assert.equal(s.berth(['run', '--rm', 'multi:b']).stdout, 'compiled\n');
    const [img] = JSON.parse(s.berth(['inspect', 'multi:a']).stdout);
    assert.equal(img.RootFS.Layers.length, 2); // only the tiny stage's own layers
  });
});

describe('the base images', () => {
  const repo = require('./helpers').repoRoot as string;
  it('busybox builds FROM scratch from Debian\'s busybox-static, with applets and users', () => {
    const r = build(path.join(repo, 'images', 'busybox'), '-t', 'bb-built');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(s.berth(['run', '--rm', '-u', 'nobody', 'bb-built', 'sh', '-c', 'id -un; ls -ld /tmp | cut -c1-10']).stdout, 'nobody\ndrwxrwxrwt\n');
  });

  it('debian:bookworm builds from the mmdebstrap root filesystem, reporting unpack progress, and runs apt', async () => {
    const events: Array<{ done: number; total: number }> = [];
    await s.engine.builds.build({ context: path.join(repo, 'images', 'debian'), tags: ['deb-built'], noCache: true, buildArgs: {} }, (e) => {
      if (e.type === 'unpack') events.push({ done: e.done, total: e.total });
    });
    assert.ok(events.length >= 3, `only ${events.length} progress events`);
    assert.ok(events.every((e, i) => i === 0 || e.done >= events[i - 1].done), 'progress goes forward');
    assert.equal(events[events.length - 1].done, events[events.length - 1].total);
    assert.ok(events[0].done < events[0].total);
    const out = s.berth(['run', '--rm', 'deb-built', 'bash', '-c', 'cat /etc/os-release | grep VERSION_CODENAME; apt-get --version | head -1']).stdout;
    assert.match(out, /VERSION_CODENAME=bookworm\napt 2\.6/);
    const [img] = JSON.parse(s.berth(['inspect', 'deb-built']).stdout);
    assert.equal(img.RootFS.Layers.length, 1);
    assert.ok(img.Size > 100e6, `size ${img.Size}`);
  });
});

describe('ENTRYPOINT and CMD, as in docker\'s reference table', () => {
  const cases: Array<[string, string, string[]]> = [
    ['', 'CMD ["exec_cmd", "p1_cmd"]', ['exec_cmd', 'p1_cmd']],
    ['', 'CMD exec_cmd p1_cmd', ['/bin/sh', '-c', 'exec_cmd p1_cmd']],
    ['ENTRYPOINT exec_entry p1_entry', '', ['/bin/sh', '-c', 'exec_entry p1_entry']],
    ['ENTRYPOINT exec_entry p1_entry', 'CMD ["exec_cmd", "p1_cmd"]', ['/bin/sh', '-c', 'exec_entry p1_entry', 'exec_cmd', 'p1_cmd']],
    ['ENTRYPOINT ["exec_entry", "p1_entry"]', '', ['exec_entry', 'p1_entry']],
    ['ENTRYPOINT ["exec_entry", "p1_entry"]', 'CMD ["exec_cmd", "p1_cmd"]', ['exec_entry', 'p1_entry', 'exec_cmd', 'p1_cmd']],
    ['ENTRYPOINT ["exec_entry", "p1_entry"]', 'CMD exec_cmd p1_cmd', ['exec_entry', 'p1_entry', '/bin/sh', '-c', 'exec_cmd p1_cmd']],
  ];
  cases.forEach(([entry, cmd, argv], i) => {
    it(`${entry || 'no ENTRYPOINT'} + ${cmd || 'no CMD'}`, () => {
      const dir = context(`ep${i}`, { Dockerfile: `FROM busybox\n${cmd}\n${entry}\n` });
      assert.equal(build(dir, '-t', `ep${i}`).code, 0);
      const id = s.berth(['create', `ep${i}`]).stdout.trim();
      const [c] = JSON.parse(s.berth(['inspect', id]).stdout);
      assert.deepEqual([c.Path, ...c.Args], argv);
      s.berth(['rm', id]);
    });
  });

  it('an inherited CMD is dropped when the Dockerfile sets ENTRYPOINT', () => {
    const dir = context('ep-inherit', { Dockerfile: 'FROM busybox\nENTRYPOINT ["echo"]\n' }); // busybox has CMD ["sh"]
    assert.equal(build(dir, '-t', 'ep-inherit').code, 0);
    assert.equal(s.berth(['run', '--rm', 'ep-inherit', 'hi']).stdout, 'hi\n');
    assert.equal(s.berth(['run', '--rm', 'ep-inherit']).stdout, '\n');
  });
});

describe('build errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown instruction', 'FROM busybox\nRUN true\nFROBNICATE now\n', /Dockerfile:3: unknown instruction: FROBNICATE/],
    ['a missing argument', 'FROM busybox\nWORKDIR\n', /Dockerfile:2: WORKDIR requires exactly one argument/],
    ['an instruction before FROM', 'RUN true\nFROM busybox\n', /Dockerfile:1: RUN before FROM/],
    ['an unterminated here-document', 'FROM busybox\nRUN <<EOF\necho\n', /Dockerfile:2: unterminated heredoc <<EOF/],
    ['a failing RUN', 'FROM busybox\nRUN echo partial; exit 7\n', /Dockerfile:2: The command '\/bin\/sh -c echo partial; exit 7' returned a non-zero code: 7/],
    ['a missing COPY source', 'FROM busybox\nCOPY nothing.txt /\n', /COPY failed: file not found in build context or excluded by \.dockerignore: stat nothing.txt/],
    ['an unknown base image', 'FROM no-such-base\n', /Dockerfile:1: Unable to find image 'no-such-base:latest' locally.*pulling it failed too: cannot reach registry registry-1\.docker\.io: only loopback registries are allowed/],
  ];
  for (const [what, dockerfile, message] of cases) {
    it(`${what}: exit 1, the line named, no image tagged`, () => {
      const dir = context('bad', { Dockerfile: dockerfile });
      const r = build(dir, '-t', 'should-not-exist');
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
      assert.equal(s.berth(['images', '-q', 'should-not-exist']).stdout, '');
      assert.equal(s.berth(['ps', '-a', '-q']).stdout, '', 'no build container left behind');
    });
  }
});

describe('commit, diff, tag, rmi and prune', () => {
  it('diff shows A, C and D; commit makes an image that has the change', () => {
    s.berth(['run', '--name', 'changer', 'busybox', 'sh', '-c', 'echo new > /root/new.txt; echo x >> /etc/group; rm /bin/vi']);
    const d = s.berth(['diff', 'changer']).stdout;
    assert.match(d, /^A \/root\/new.txt$/m);
    assert.match(d, /^C \/etc\/group$/m);
    assert.match(d, /^D \/bin\/vi$/m);
    const r = s.berth(['commit', '-m', 'lab step', '-c', 'CMD ["cat", "/root/new.txt"]', 'changer', 'changed:v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.berth(['run', '--rm', 'changed:v1']).stdout, 'new\n');
    assert.match(s.berth(['run', '--rm', 'changed:v1', 'sh', '-c', 'ls /bin/vi 2>&1; true']).stdout, /No such file/);
    assert.match(s.berth(['history', 'changed:v1']).stdout, /lab step/);
  });

  it('tag adds a name; rmi removes a name, refuses an image in use, and deletes the last name', () => {
    assert.equal(s.berth(['tag', 'changed:v1', 'changed:alias']).code, 0);
    assert.match(s.berth(['images', 'changed']).stdout, /changed\s+alias/);
    assert.equal(s.berth(['rmi', 'changed:alias']).stdout, 'Untagged: changed:alias\n');
    // A second name goes even while a running container uses the image, as in docker.
    assert.equal(s.berth(['tag', 'changed:v1', 'changed:alias2']).code, 0);
    assert.equal(s.berth(['run', '-d', '--name', 'runs-changed', '--network', 'none', 'changed:v1', 'sleep', '30']).code, 0);
    assert.equal(s.berth(['rmi', 'changed:alias2']).stdout, 'Untagged: changed:alias2\n');
    const busy = s.berth(['rmi', 'changed:v1']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /image is being used by running container/);
    assert.equal(s.berth(['rm', '-f', 'runs-changed']).code, 0);
    s.berth(['create', '--name', 'user-of-changed', 'changed:v1']);
    const refused = s.berth(['rmi', 'changed:v1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /image is being used by stopped container/);
    s.berth(['rm', 'user-of-changed']);
    const r = s.berth(['rmi', 'changed:v1']);
    assert.match(r.stdout, /^Untagged: changed:v1\nDeleted: sha256:[0-9a-f]{64}\n$/);
    assert.equal(s.berth(['images', '-q', 'changed']).stdout, '');
  });

  it('image prune removes dangling images; images -f dangling=true lists them', () => {
    const dir = context('dangle', { Dockerfile: 'FROM busybox\nLABEL v=1\n' });
    build(dir, '-t', 'dangle');
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nLABEL v=2\n');
    build(dir, '-t', 'dangle'); // the first image loses its name
    assert.match(s.berth(['images', '-f', 'dangling=true']).stdout, /<none>\s+<none>/);
    const r = s.berth(['image', 'prune', '-f']);
    assert.match(r.stdout, /Deleted Images:\ndeleted: sha256:/);
    assert.equal(s.berth(['images', '-f', 'dangling=true', '-q']).stdout, '');
    assert.match(s.berth(['images']).stdout, /^dangle\s+latest/m);
  });
});

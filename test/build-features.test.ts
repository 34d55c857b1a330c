// Real Dockerfiles on real builds: RUN on a network, RUN --mount (cache,
// bind, tmpfs, secret), builds that reproduce bit for bit, and docker's
// --format templates. The suite runs in a network namespace of its own, so
// the build's bridge and the web server it fetches from live only there.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { buildContext, TestStore, testStore } from './helpers';

let s: TestStore;
before(async () => {
  s = await testStore('buildfeat');
});
after(async () => {
  await s.cleanup();
});

const context = (name: string, files: Record<string, string>): string => buildContext(s, name, files);

const build = (dir: string, ...flags: string[]) => s.berth(['build', ...flags, dir], { timeoutMs: 180000 });
const run = (...args: string[]) => s.berth(['run', '--rm', ...args]);

describe('RUN has a network, as in docker build', () => {
  let web = '';
  before(() => {
    const r = s.berth(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'echo fetched-over-http > /index.html; httpd -f -p 80 -h /']);
    assert.equal(r.code, 0, r.stderr);
    web = s.berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web']).stdout.trim();
    assert.match(web, /^\d+\.\d+\.\d+\.\d+$/);
  });
  after(() => {
    s.berth(['rm', '-f', 'web']);
  });

  it('a RUN fetches a file over HTTP from a server on the default bridge', () => {
    const dir = context('net', { Dockerfile: 'FROM busybox\nARG WEB\nRUN wget -q -O /got.txt http://$WEB/index.html\n' });
    const r = build(dir, '--build-arg', `WEB=${web}`, '-t', 'net:fetched');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(run('net:fetched', 'cat', '/got.txt').stdout, 'fetched-over-http\n');
  });

  it('build --network none gives RUN no network, and the build fails saying which command', () => {
    const dir = context('net', { Dockerfile: 'FROM busybox\nARG WEB\nRUN wget -q -O /got.txt http://$WEB/index.html\n' });
    const r = build(dir, '--network', 'none', '--no-cache', '--build-arg', `WEB=${web}`, '-t', 'net:none');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dockerfile:3: The command '\/bin\/sh -c wget -q -O \/got.txt http:\/\/\$WEB\/index.html' returned a non-zero code/);
    const perStep = context('net-step', { Dockerfile: 'FROM busybox\nRUN --network=none ip -o addr | grep -v " lo " | wc -l\n' });
    const r2 = build(perStep, '--no-cache');
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /^0$/m); // nothing but loopback
    const host = context('net-host', { Dockerfile: 'FROM busybox\nRUN --network=host true\n' });
    assert.match(build(host).stderr, /--allow network.host/);
    assert.match(build(context('net-bad', { Dockerfile: 'FROM busybox\nRUN true\n' }), '--network', 'bridge0').stderr, /default, none or host/);
  });
});

describe('RUN --mount', () => {
  it('a cache mount is warm on the next build and is never part of the image', () => {
    const dir = context('cache', {
      Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/root/.cache/pip sh -c \'if [ -f /root/.cache/pip/wheel ]; then echo CACHE-WARM; else echo CACHE-COLD; echo w > /root/.cache/pip/wheel; fi\'\n',
    });
    const first = build(dir, '-t', 'cache:one');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /CACHE-COLD/);
    const second = build(dir, '--no-cache', '-t', 'cache:two');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /CACHE-WARM/);
    const listed = run('cache:two', 'sh', '-c', 'ls -a /root 2>&1; echo end');
    assert.doesNotMatch(listed.stdout, /\.cache/);
  });

  it('sharing=locked: two builds at once take turns with the cache', async () => {
    // mkdir of the same directory fails for whichever step comes second
    // unless the first has finished and removed it.
    const step = (n: number) => `FROM busybox\nRUN --mount=type=cache,id=apt-lists,target=/var/lib/apt,sharing=locked sh -c 'mkdir /var/lib/apt/lock-held && echo held-${n} && sleep 1 && rmdir /var/lib/apt/lock-held'\n`;
    const a = context('locked-a', { Dockerfile: step(1) });
    const b = context('locked-b', { Dockerfile: step(2) });
    const [ra, rb] = await Promise.all([s.berthAsync(['build', '--no-cache', a]), s.berthAsync(['build', '--no-cache', b])]);
    assert.equal(ra.code, 0, ra.stdout + ra.stderr);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assert.match(ra.stdout, /held-1/);
    assert.match(rb.stdout, /held-2/);
  });

  it('bind mounts from the context and from another stage, read-only, leave no trace', () => {
    const dir = context('bind', {
      'requirements.txt': 'numpy==2.1\n',
      Dockerfile: [
        'FROM busybox AS deps',
        'RUN echo built-in-deps > /artifact',
        'FROM busybox',
        'RUN --mount=type=bind,source=requirements.txt,target=/tmp/req.txt cp /tmp/req.txt /copied && (echo x > /tmp/req.txt 2>/dev/null && echo WRITABLE || echo READONLY)',
        'RUN --mount=type=bind,from=deps,source=/artifact,target=/mnt/a cat /mnt/a > /from-stage',
        '',
      ].join('\n'),
    });
    const r = build(dir, '-t', 'bind:x');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /READONLY/);
    assert.equal(run('bind:x', 'cat', '/copied', '/from-stage').stdout, 'numpy==2.1\nbuilt-in-deps\n');
    assert.equal(run('bind:x', 'sh', '-c', 'ls /tmp/req.txt /mnt/a 2>/dev/null; echo end').stdout, 'end\n');
  });

  it('a bind source that is a symlink out of the context resolves inside it, never to the host', () => {
    const dir = context('bind-escape', { Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=hostetc,target=/x cat /x/shadow\n' });
    fs.symlinkSync('/etc', path.join(dir, 'hostetc'));
    const r = build(dir);
    assert.equal(r.code, 1);
    // As in BuildKit: /etc is the context's own etc, which it does not have.
    assert.match(r.stderr, /Dockerfile:2: --mount source=hostetc: not found in the build context/);
    assert.doesNotMatch(r.stdout, /root:/);
  });

  it('a tmpfs mount is a tmpfs while the step runs and gone after', () => {
    const dir = context('tmpfs', { Dockerfile: 'FROM busybox\nRUN --mount=type=tmpfs,target=/scratch sh -c \'grep " /scratch tmpfs " /proc/mounts && echo junk > /scratch/f\'\n' });
    const r = build(dir, '-t', 'tmpfs:x');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, / \/scratch tmpfs /);
    assert.equal(run('tmpfs:x', 'sh', '-c', 'ls /scratch 2>/dev/null; echo end').stdout, 'end\n');
  });

  it('a secret is readable by the step and never stored in a layer', () => {
    const secretFile = path.join(s.root, 'token.txt');
    fs.writeFileSync(secretFile, 's3cret-value-7731');
    const dir = context('secret', { Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=tok sh -c \'test "$(wc -c < /run/secrets/tok)" -eq 17 && cp /run/secrets/tok /leak-attempt && rm /leak-attempt && echo SECRET-OK\'\n' });
    const r = build(dir, '--secret', `id=tok,src=${secretFile}`, '-t', 'secret:x');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SECRET-OK/);
    const out = path.join(s.root, 'secret.tar');
    assert.equal(s.berth(['save', '-o', out, 'secret:x']).code, 0);
    assert.equal(fs.readFileSync(out).includes('s3cret-value-7731'), false);
    assert.equal(run('secret:x', 'sh', '-c', 'ls /run/secrets 2>/dev/null; echo end').stdout, 'end\n');
    const missing = context('secret-req', { Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=absent,required true\n' });
    assert.match(build(missing).stderr, /secret absent is required but was not given: build --secret id=absent,src=FILE/);
    assert.match(build(dir, '--secret', 'id=tok,src=/nonexistent/file').stderr, /secret tok: the file \/nonexistent\/file does not exist/);
  });

  it('a mount type Berth does not have, or a bad key, is refused by name', () => {
    assert.match(build(context('ssh', { Dockerfile: 'FROM busybox\nRUN --mount=type=ssh true\n' })).stderr, /Dockerfile:2: unsupported mount type "ssh"/);
    assert.match(build(context('badkey', { Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/c,colour=red true\n' })).stderr, /unexpected key 'colour'/);
    assert.match(build(context('badflag', { Dockerfile: 'FROM busybox\nRUN --mnt=type=cache true\n' })).stderr, /Dockerfile:2: unknown flag: --mnt/);
  });
});

describe('ignore files', () => {
  it('NAME.dockerignore beside a Dockerfile given with -f wins over the context\'s .dockerignore', () => {
    const dir = context('ignore', {
      'a.txt': 'a\n',
      'b.txt': 'b\n',
      '.dockerignore': 'a.txt\n',
      'app.Dockerfile': 'FROM busybox\nCOPY . /c/\n',
      'app.Dockerfile.dockerignore': 'b.txt\n*.Dockerfile*\n.dockerignore\n',
    });
    const r = build(dir, '-f', path.join(dir, 'app.Dockerfile'), '-t', 'ignore:x');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(run('ignore:x', 'ls', '/c').stdout, 'a.txt\n');
  });
});

describe('COPY --exclude', () => {
  it('leaves out what the patterns name, at any depth with **, from the context and from a stage', () => {
    const dir = context('exclude', {
      'a.py': 'print(1)\n',
      'debug.log': 'noise\n',
      'sub/b.log': 'noise\n',
      'sub/c.py': 'print(2)\n',
      'tmp/x': 'scratch\n',
      Dockerfile: 'FROM busybox AS src\nCOPY . /src/\nFROM busybox\nCOPY --exclude=**/*.log --exclude=tmp . /app/\nCOPY --from=src --exclude=*.py --exclude=Dockerfile /src/ /fromstage/\n',
    });
    const r = build(dir, '-t', 'exclude:x');
    assert.equal(r.code, 0, r.stderr);
    const listed = run('exclude:x', 'sh', '-c', 'cd /app && find . -type f | sort; echo --; cd /fromstage && find . -type f | sort').stdout;
    assert.equal(listed, './Dockerfile\n./a.py\n./sub/c.py\n--\n./debug.log\n./sub/b.log\n./sub/c.py\n./tmp/x\n');
  });
});

describe('builds that reproduce bit for bit with SOURCE_DATE_EPOCH', () => {
  const files = {
    'app.py': 'print("hello")\n',
    'data/a.csv': 'x,y\n1,2\n',
    Dockerfile: 'FROM busybox\nCOPY . /app\nRUN mkdir -p /out && for i in 1 2 3; do echo $i > /out/f$i; done && touch /out\nENV MODE=repro\nCMD ["cat", "/app/app.py"]\n',
  };
  const layers = (ref: string) => s.berth(['inspect', '-f', '{{json .RootFS.Layers}}', ref]).stdout;
  const id = (ref: string) => s.berth(['inspect', '-f', '{{.Id}}', ref]).stdout.trim();

  it('two uncached builds give the same image ID and layer digests; the times are clamped', async () => {
    const dir = context('repro', files);
    const a = build(dir, '--no-cache', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-t', 'repro:a');
    assert.equal(a.code, 0, a.stderr);
    await new Promise((r) => setTimeout(r, 1100)); // a second later: any unclamped time would differ
    fs.utimesSync(path.join(dir, 'app.py'), new Date(), new Date());
    const b = build(dir, '--no-cache', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-t', 'repro:b');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(id('repro:a'), id('repro:b'));
    assert.equal(layers('repro:a'), layers('repro:b'));
    assert.equal(s.berth(['inspect', '-f', '{{.Created}}', 'repro:a']).stdout.trim(), '2023-11-14T22:13:20.000Z');
    const mtimes = run('repro:a', 'stat', '-c', '%Y', '/out/f1', '/app/app.py').stdout.trim().split('\n');
    assert.deepEqual(mtimes, ['1700000000', '1700000000']);
    // Without it, the same build is a different image (its times differ).
    const c = build(dir, '--no-cache', '-t', 'repro:c');
    assert.equal(c.code, 0, c.stderr);
    assert.notEqual(id('repro:c'), id('repro:a'));
    assert.match(build(dir, '--build-arg', 'SOURCE_DATE_EPOCH=yesterday').stderr, /invalid SOURCE_DATE_EPOCH "yesterday"/);
  });
});

describe('the grammar, end to end', () => {
  it('old-form LABEL, quoted WORKDIR, literal single quotes, quoted COPY sources, TARGETARCH and ${V:+-$V}', () => {
    const dir = context('grammar', {
      'a b.txt': 'spaced\n',
      Dockerfile: [
        'ARG VARIANT',
        'FROM busybox',
        'ARG TARGETARCH',
        'ARG VARIANT',
        'LABEL maintainer "Ann Lee"',
        'WORKDIR "/my dir"',
        "ENV LITERAL='$HOME' \\",
        '',
        '    # a comment inside the continuation',
        '    ARCH=${TARGETARCH}${VARIANT:+-${VARIANT}}',
        'COPY "a b.txt" ./',
        'RUN cat <<EOF > /here.txt',
        'arch=$TARGETARCH',
        'EOF',
        '',
      ].join('\n'),
    });
    const r = build(dir, '--build-arg', 'VARIANT=v8', '-t', 'grammar:x');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const cfg = JSON.parse(s.berth(['inspect', '-f', '{{json .Config}}', 'grammar:x']).stdout) as { Labels: Record<string, string>; WorkingDir: string; Env: string[] };
    assert.deepEqual(cfg.Labels, { maintainer: 'Ann Lee' });
    assert.equal(cfg.WorkingDir, '/my dir');
    assert.ok(cfg.Env.includes('LITERAL=$HOME'), cfg.Env.join(' '));
    assert.ok(cfg.Env.some((e) => /^ARCH=(amd64|arm64)-v8$/.test(e)), cfg.Env.join(' '));
    assert.equal(run('grammar:x', 'cat', '/my dir/a b.txt', '/here.txt').stdout, `spaced\narch=${process.arch === 'x64' ? 'amd64' : process.arch}\n`);
  });

  it('docker.io/library/NAME, library/NAME and NAME are one image, listed by the short name', () => {
    assert.equal(s.berth(['tag', 'busybox', 'docker.io/library/busybox:alias']).code, 0);
    assert.equal(s.berth(['images', '--format', '{{.Repository}}:{{.Tag}}', 'busybox']).stdout.split('\n').filter((l) => l === 'busybox:alias').length, 1);
    assert.equal(s.berth(['inspect', '-f', '{{.Id}}', 'library/busybox:alias']).stdout, s.berth(['inspect', '-f', '{{.Id}}', 'index.docker.io/busybox:alias']).stdout);
    assert.equal(s.berth(['rmi', 'busybox:alias']).code, 0);
  });
});

describe('docker build flags', () => {
  it('--label, --iidfile, --progress; FROM --platform=$BUILDPLATFORM works and another platform is refused', () => {
    const dir = context('flags', { Dockerfile: 'FROM --platform=$BUILDPLATFORM busybox\nLABEL stage=one\nRUN true\n' });
    const iid = path.join(s.root, 'iid.txt');
    const r = build(dir, '--label', 'org.example.team=ml', '--iidfile', iid, '--progress', 'plain', '-t', 'flags:x');
    assert.equal(r.code, 0, r.stderr);
    const id = s.berth(['inspect', '-f', '{{.Id}}', 'flags:x']).stdout.trim();
    assert.equal(fs.readFileSync(iid, 'utf8'), id);
    assert.deepEqual(JSON.parse(s.berth(['inspect', '-f', '{{json .Config.Labels}}', 'flags:x']).stdout), { stage: 'one', 'org.example.team': 'ml' });
    assert.match(build(dir, '--progress', 'fancy').stderr, /invalid argument "fancy" for "--progress"/);
    assert.match(build(dir, '--platform', 'linux/s390x').stderr, /--platform linux\/s390x: Berth builds only for this machine's platform/);
    const other = context('flags-other', { Dockerfile: 'FROM --platform=linux/s390x busybox\n' });
    assert.match(build(other).stderr, /Dockerfile:1: FROM --platform=linux\/s390x: Berth builds only for this machine's platform/);
    const quiet = build(dir, '--label', 'org.example.team=ml', '--progress', 'quiet', '-t', 'flags:x');
    assert.equal(quiet.stdout.trim(), id);
  });
});

describe('--format as docker has it', () => {
  it('images: Go field names, json, table with headers, and a missing field is an error', () => {
    const ids = s.berth(['images', '--format', '{{.ID}}']).stdout.trim().split('\n');
    assert.ok(ids.length > 0 && ids.every((l) => /^[0-9a-f]{12}$/.test(l)), ids.join(','));
    const json = s.berth(['images', '--format', 'json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.ok(json.some((o) => o.Repository === 'busybox' && o.Tag === 'latest' && /^[0-9a-f]{12}$/.test(o.ID)));
    const table = s.berth(['images', '--format', 'table {{.Repository}}\\t{{.Size}}']).stdout.split('\n');
    assert.match(table[0], /^REPOSITORY\s+SIZE$/);
    const bad = s.berth(['images', '--format', '{{.Nope}}']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Nope/);
  });

  it('ps and stats take --format; inspect takes the Go names and "" prints the JSON', () => {
    assert.equal(s.berth(['run', '-d', '--name', 'fmt', '--label', 'team=ml', 'busybox', 'sleep', '60']).code, 0);
    try {
      assert.match(s.berth(['ps', '--format', 'table {{.Names}}\\t{{.State}}\\t{{.Label "team"}}']).stdout, /^NAMES\s+STATE\s+LABEL\nfmt\s+running\s+ml\n/);
      const ps = JSON.parse(s.berth(['ps', '--format', 'json']).stdout.trim()) as Record<string, string>;
      assert.equal(ps.Names, 'fmt');
      assert.match(s.berth(['stats', '--no-stream', '--format', '{{.Name}}: {{.PIDs}}']).stdout, /^fmt: \d+\n$/);
      assert.equal(s.berth(['inspect', '-f', '{{.ID}}', 'fmt']).stdout, s.berth(['inspect', '-f', '{{.Id}}', 'fmt']).stdout);
      const full = JSON.parse(s.berth(['inspect', '--format', '', 'fmt']).stdout) as Array<{ Name: string }>;
      assert.equal(full[0].Name, '/fmt');
      const missing = s.berth(['inspect', '-f', '{{.State.Nope}}', 'fmt']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /map has no entry for key "Nope"/);
      // The default bridge's address, gateway and MAC, as docker shows them; the MAC is the one the container has.
      const [ip, gw, mac] = s.berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}}', 'fmt']).stdout.trim().split(' ');
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      assert.match(gw, /^\d+\.\d+\.\d+\.1$/);
      assert.equal(s.berth(['exec', 'fmt', 'cat', '/sys/class/net/eth0/address']).stdout.trim(), mac);
      assert.match(mac, /^02:42:/);
    } finally {
      s.berth(['rm', '-f', 'fmt']);
    }
  });
});

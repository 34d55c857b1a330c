// Pull, push and login against Debian's docker-registry on 127.0.0.1, with
// skopeo as the other client. The suite's network namespace has only
// loopback, and BERTH_OFFLINE keeps Berth to loopback registries.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { TestStore, testStore } from './helpers';
import { freePort, Registry, startRegistry } from './registry-server';

let s: TestStore;
let clean: TestStore;
let reg: Registry;
let digest = '';

before(async () => {
  s = await testStore('registry');
  clean = await testStore('registry-clean', { empty: true });
  reg = await startRegistry(path.join(s.root, 'registry'));
});
after(async () => {
  await reg?.stop();
  await s?.cleanup();
  await clean?.cleanup();
});

function skopeo(args: string[], env: NodeJS.ProcessEnv = s.env) {
  const r = spawnSync('skopeo', args, { encoding: 'utf8', env });
  assert.equal(r.status, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('push and pull', () => {
  it('push prints docker\'s lines, and skopeo reads what was pushed', () => {
    assert.equal(s.berth(['tag', 'busybox', `${reg.host}/lab/bb:v1`]).code, 0);
    const r = s.berth(['push', `${reg.host}/lab/bb:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^The push refers to repository \\[${reg.host}/lab/bb\\]\\n[0-9a-f]{12}: Pushed\\nv1: digest: (sha256:[0-9a-f]{64}) size: \\d+\\n$`));
    digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1];
    const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/lab/bb:v1`]));
    assert.equal(info.Digest, digest);
    const [img] = JSON.parse(s.berth(['inspect', 'busybox']).stdout);
    assert.equal(info.Layers.length, img.RootFS.Layers.length);
    skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/lab/bb:v1`, `oci-archive:${path.join(s.root, 'copied.tar')}:v1`]);
    // A second push skips the layer; another repository mounts it.
    assert.match(s.berth(['push', `${reg.host}/lab/bb:v1`]).stdout, /: Layer already exists\n/);
    s.berth(['tag', 'busybox', `${reg.host}/other/bb:v1`]);
    assert.match(s.berth(['push', `${reg.host}/other/bb:v1`]).stdout, /: Mounted from lab\/bb\n/);
  });

  it('pull by digest into a clean store, then run it', () => {
    const r = clean.berth(['pull', `${reg.host}/lab/bb@${digest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pull complete/);
    assert.match(r.stdout, new RegExp(`Digest: ${digest}`));
    assert.equal(clean.berth(['run', '--rm', '--network', 'none', `${reg.host}/lab/bb@${digest}`, 'echo', 'pulled']).stdout, 'pulled\n');
    // Pulled by digest: no tag, as docker; the image ID is the registry's config digest.
    assert.match(clean.berth(['images', '--digests']).stdout, new RegExp(`127\\.0\\.0\\.1:\\d+/lab/bb\\s+<none>\\s+${digest}`));
    const pushedId = s.berth(['inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim();
    assert.equal(clean.berth(['inspect', '-f', '{{.Id}}', `${reg.host}/lab/bb@${digest}`]).stdout.trim(), pushedId);
  });

  it('an image skopeo pushes is pulled and run; a second pull is up to date', () => {
    assert.equal(s.berth(['save', '-o', path.join(s.root, 'bb.tar'), 'busybox']).code, 0);
    skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${path.join(s.root, 'bb.tar')}`, `docker://${reg.host}/from/skopeo:v2`]);
    const r = clean.berth(['pull', `${reg.host}/from/skopeo:v2`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(clean.berth(['run', '--rm', '--network', 'none', `${reg.host}/from/skopeo:v2`, 'echo', 'via skopeo']).stdout, 'via skopeo\n');
    assert.match(clean.berth(['pull', `${reg.host}/from/skopeo:v2`]).stdout, /Already exists[\s\S]*Status: Image is up to date/);
    assert.match(clean.berth(['images', '--digests', `${reg.host}/from/skopeo`]).stdout, /sha256:[0-9a-f]{64}/);
  });

  it('run pulls a missing image by itself, as docker does', () => {
    clean.berth(['rmi', '-f', `${reg.host}/from/skopeo:v2`]);
    const r = clean.berth(['run', '--rm', '--network', 'none', `${reg.host}/from/skopeo:v2`, 'echo', 'auto-pulled']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Unable to find image '127\.0\.0\.1:\d+\/from\/skopeo:v2' locally/);
    assert.equal(r.stdout, 'auto-pulled\n');
  });

  it('a missing tag is a clear error', () => {
    const r = clean.berth(['pull', `${reg.host}/lab/none:v9`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /manifest for lab\/none:v9 not found on 127\.0\.0\.1:\d+; check the name and tag/);
  });
});

// A proxy in front of the registry that flips a byte in layer blobs, drops
// the connection for one chosen blob the first time it is asked, or cuts
// it off mid-way after some bytes; it notes the Range of each blob request
// and the bytes it sent.
interface BlobRequest {
  digest: string;
  range?: string;
  status: number;
  sent: number;
}
async function proxy(target: string, mode: { flip?: boolean; dropOnce?: string; cutOnce?: { digest: string; after: number } }): Promise<{ host: string; close(): void; blobs: BlobRequest[] }> {
  const port = await freePort();
  let dropped = false;
  let cut = false;
  const blobs: BlobRequest[] = [];
  const server = http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port: Number(target.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (ur) => {
      const isLayer = /\/blobs\/sha256:/.test(req.url ?? '') && Number(ur.headers['content-length'] ?? 0) > 4096;
      if (mode.dropOnce && !dropped && (req.url ?? '').includes(mode.dropOnce)) {
        dropped = true;
        res.destroy();
        ur.resume();
        return;
      }
      const blob = /\/blobs\/(sha256:[a-f0-9]+)/.exec(req.url ?? '');
      const seen: BlobRequest | undefined = blob && req.method === 'GET' ? { digest: blob[1], range: req.headers.range, status: ur.statusCode ?? 0, sent: 0 } : undefined;
      if (seen) blobs.push(seen);
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (seen) ur.on('data', (c: Buffer) => void (seen.sent += c.length));
      if (mode.cutOnce && !cut && seen?.digest === mode.cutOnce.digest) {
        cut = true;
        let sent = 0;
        ur.on('data', (c: Buffer) => {
          if (sent >= mode.cutOnce!.after) return;
          const part = c.subarray(0, mode.cutOnce!.after - sent);
          sent += part.length;
          res.write(part);
          if (sent >= mode.cutOnce!.after) setTimeout(() => res.destroy(), 100);
        });
        return;
      }
      if (!(mode.flip && isLayer)) return void ur.pipe(res);
      let flipped = false;
      ur.on('data', (c: Buffer) => {
        if (!flipped && c.length > 100) {
          c[100] ^= 0xff;
          flipped = true;
        }
        res.write(c);
      });
      ur.on('end', () => res.end());
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { host: `127.0.0.1:${port}`, close: () => server.close(), blobs };
}

describe('integrity', () => {
  it('a corrupted layer is refused and nothing of it stays', async () => {
    const empty = await testStore('registry-corrupt', { empty: true });
    const p = await proxy(reg.host, { flip: true });
    try {
      // (async: the proxy lives in this process, a sync spawn would starve it)
      const r = await empty.berthAsync(['pull', `${p.host}/lab/bb:v1`]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /(does not match its digest .*refusing it|could not be read: .*)[,;] nothing of it was kept/);
      assert.equal(empty.berth(['images', '-a', '-q']).stdout, '');
      assert.deepEqual(fs.readdirSync(path.join(empty.root, 'partials')).filter((f) => f.startsWith('pull-')), []);
      const blobs = fs.readdirSync(path.join(empty.root, 'images', 'blobs', 'sha256'));
      assert.ok(blobs.length === 0, `blobs left: ${blobs.join(', ')}`);
    } finally {
      p.close();
      await empty.cleanup();
    }
  });

  it('an interrupted pull resumes without fetching finished layers again', async () => {
    const dir = path.join(s.root, 'two-layers');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nRUN head -c 200000 /dev/urandom > /blob.bin\n');
    assert.equal(s.berth(['build', '-q', '-t', `${reg.host}/lab/two:v1`, dir]).code, 0);
    assert.equal(s.berth(['push', `${reg.host}/lab/two:v1`]).code, 0);
    const manifest = await (await fetch(`http://${reg.host}/v2/lab/two/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string }> };
    const fresh = await testStore('registry-resume', { empty: true });
    const p = await proxy(reg.host, { dropOnce: manifest.layers[1].digest });
    try {
      const first = await fresh.berthAsync(['pull', `${p.host}/lab/two:v1`]);
      assert.equal(first.code, 1, first.stdout);
      const second = await fresh.berthAsync(['pull', `${p.host}/lab/two:v1`]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`${manifest.layers[0].digest.slice(7, 19)}: Already exists`));
      assert.match(second.stdout, new RegExp(`${manifest.layers[1].digest.slice(7, 19)}: Pull complete`));
    } finally {
      p.close();
      await fresh.cleanup();
    }
  });

  it('a layer cut off mid-way resumes from the byte it stopped at, and the image is whole', async () => {
    const dir = path.join(s.root, 'big-layer');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nRUN head -c 3000000 /dev/urandom > /blob.bin\n');
    assert.equal(s.berth(['build', '-q', '-t', `${reg.host}/lab/big:v1`, dir]).code, 0);
    assert.equal(s.berth(['push', `${reg.host}/lab/big:v1`]).code, 0);
    const want = s.berth(['run', '--rm', '--network', 'none', `${reg.host}/lab/big:v1`, 'sha256sum', '/blob.bin']).stdout;
    const manifest = await (await fetch(`http://${reg.host}/v2/lab/big/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers[1];
    const fresh = await testStore('registry-resume-mid', { empty: true });
    const p = await proxy(reg.host, { cutOnce: { digest: layer.digest, after: 1_000_000 } });
    try {
      const first = await fresh.berthAsync(['pull', `${p.host}/lab/big:v1`]);
      assert.equal(first.code, 1, first.stdout);
      assert.match(first.stderr, new RegExp(`layer ${layer.digest.slice(0, 19)} was cut off after \\d+ of ${layer.size} bytes .*; pull again to resume it`));
      const second = await fresh.berthAsync(['pull', `${p.host}/lab/big:v1`]);
      assert.equal(second.code, 0, second.stderr);
      const asks = p.blobs.filter((b) => b.digest === layer.digest);
      assert.equal(asks.length, 2);
      // From the byte the first pull had written: the cut came after
      // 1,000,000 bytes, less what was still in flight when it came.
      const from = Number(/^bytes=(\d+)-$/.exec(asks[1].range ?? '')?.[1]);
      assert.ok(from > 500_000 && from <= 1_000_000, `the second pull asks only for the rest (${asks[1].range})`);
      assert.equal(asks[1].status, 206);
      assert.equal(asks[1].sent, layer.size - from);
      const got = fresh.berth(['run', '--rm', '--network', 'none', `${p.host}/lab/big:v1`, 'sha256sum', '/blob.bin']);
      assert.equal(got.stdout, want, got.stderr);
      assert.deepEqual(fs.readdirSync(path.join(fresh.root, 'partials')).filter((f) => f.startsWith('pull-')), [], 'no partial left');
    } finally {
      p.close();
      await fresh.cleanup();
    }
  });

  it('a partial layer outlives a pull that cannot reach the registry, and the next one still resumes it', async () => {
    const manifest = await (await fetch(`http://${reg.host}/v2/lab/big/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers[1];
    const fresh = await testStore('registry-resume-down', { empty: true });
    const cutter = await proxy(reg.host, { cutOnce: { digest: layer.digest, after: 1_000_000 } });
    const partials = () => fs.readdirSync(path.join(fresh.root, 'partials')).filter((f) => f.startsWith(`pull-${layer.digest.slice(7)}`));
    let direct: Awaited<ReturnType<typeof proxy>> | undefined;
    try {
      assert.equal((await fresh.berthAsync(['pull', `${cutter.host}/lab/big:v1`])).code, 1);
      assert.deepEqual(partials(), [`pull-${layer.digest.slice(7)}.partial`]);
      // The layer's own request fails: the connection drops before any answer.
      const dropper = await proxy(reg.host, { dropOnce: layer.digest });
      const down = await fresh.berthAsync(['pull', `${dropper.host}/lab/big:v1`]);
      dropper.close();
      assert.equal(down.code, 1, down.stdout);
      assert.match(down.stderr, /fetch failed|closed|socket|ECONNRESET/i);
      assert.deepEqual(partials(), [`pull-${layer.digest.slice(7)}.partial`], 'the partial is still there');
      direct = await proxy(reg.host, {});
      const again = await fresh.berthAsync(['pull', `${direct.host}/lab/big:v1`]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(direct.blobs.find((b) => b.digest === layer.digest)?.range ?? '', /^bytes=([5-9]\d{5}|1000000)-$/);
    } finally {
      cutter.close();
      direct?.close();
      await fresh.cleanup();
    }
  });

  it('a partial of the whole layer is checked and committed with no request; a corrupt one is dropped and the layer fetched again', async () => {
    const manifest = await (await fetch(`http://${reg.host}/v2/lab/big/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers[1];
    const blob = Buffer.from(await (await fetch(`http://${reg.host}/v2/lab/big/blobs/${layer.digest}`)).arrayBuffer());
    const want = s.berth(['run', '--rm', '--network', 'none', `${reg.host}/lab/big:v1`, 'sha256sum', '/blob.bin']).stdout;
    // A pull killed after the last byte but before the rename left this.
    for (const [what, bytes] of [['whole', blob], ['corrupt', Buffer.concat([blob.subarray(0, 5000), Buffer.from('garbage!'), blob.subarray(5008)])]] as const) {
      const fresh = await testStore(`registry-partial-${what}`, { empty: true });
      const p = await proxy(reg.host, {});
      try {
        fs.mkdirSync(path.join(fresh.root, 'partials'), { recursive: true });
        fs.writeFileSync(path.join(fresh.root, 'partials', `pull-${layer.digest.slice(7)}.partial`), bytes);
        const r = await fresh.berthAsync(['pull', `${p.host}/lab/big:v1`]);
        assert.equal(r.code, 0, `${what}: ${r.stderr}`);
        const asks = p.blobs.filter((b) => b.digest === layer.digest);
        if (what === 'whole') assert.equal(asks.length, 0, 'a whole partial needs no request (before, the pull asked for the bytes after its end: HTTP 416)');
        else assert.deepEqual(asks.map((a) => a.range ?? ''), [''], 'the corrupt partial was dropped and the whole layer asked for once');
        assert.equal(fresh.berth(['run', '--rm', '--network', 'none', `${p.host}/lab/big:v1`, 'sha256sum', '/blob.bin']).stdout, want);
        assert.deepEqual(fs.readdirSync(path.join(fresh.root, 'partials')), [], 'no partial left');
      } finally {
        p.close();
        await fresh.cleanup();
      }
    }
  });

  it('a pull keeps the compressed blob alone; push sends it as it came, save writes its tar', async () => {
    const manifest = await (await fetch(`http://${reg.host}/v2/lab/big/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string; size: number }> };
    const fresh = await testStore('registry-keep', { empty: true });
    try {
      assert.equal((await fresh.berthAsync(['pull', `${reg.host}/lab/big:v1`])).code, 0);
      const img = JSON.parse(fresh.berth(['inspect', `${reg.host}/lab/big:v1`]).stdout)[0];
      const blobs = fs.readdirSync(path.join(fresh.root, 'images', 'blobs', 'sha256'));
      for (const l of manifest.layers) assert.ok(blobs.includes(l.digest.slice(7)), 'the compressed layer is kept');
      for (const d of img.RootFS.Layers as string[]) assert.ok(!blobs.includes(d.slice(7)), 'its decompressed tar is not');
      // push elsewhere: the same blobs go up untouched.
      assert.equal(fresh.berth(['tag', `${reg.host}/lab/big:v1`, `${reg.host}/other/big:v2`]).code, 0);
      assert.equal((await fresh.berthAsync(['push', `${reg.host}/other/big:v2`])).code, 0);
      const pushed = await (await fetch(`http://${reg.host}/v2/other/big/manifests/v2`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string }> };
      assert.deepEqual(pushed.layers.map((l) => l.digest), manifest.layers.map((l) => l.digest));
      // save: a docker-archive whose layers are the tars of the diff IDs.
      const out = path.join(fresh.root, 'big.tar');
      assert.equal(fresh.berth(['save', '-o', out, `${reg.host}/lab/big:v1`]).code, 0);
      const x = path.join(fresh.root, 'x');
      fs.mkdirSync(x);
      assert.equal(spawnSync('tar', ['-xf', out, '-C', x]).status, 0);
      const saved = JSON.parse(fs.readFileSync(path.join(x, 'manifest.json'), 'utf8'))[0].Layers as string[];
      const sums = saved.map((f) => 'sha256:' + spawnSync('sha256sum', [path.join(x, f)], { encoding: 'utf8' }).stdout.split(' ')[0]);
      assert.deepEqual(sums, img.RootFS.Layers);
      // A snapshot that went is unpacked again from the kept blob, by run and by pull.
      for (const c of img.RootFS.Layers.length ? fs.readdirSync(path.join(fresh.root, 'snapshots')).filter((d: string) => /^[a-f0-9]{64}$/.test(d)) : []) {
        fs.rmSync(path.join(fresh.root, 'snapshots', c), { recursive: true, force: true });
      }
      const again = fresh.berth(['run', '--rm', '--network', 'none', `${reg.host}/lab/big:v1`, 'sh', '-c', 'wc -c < /blob.bin']);
      assert.equal(again.stdout.trim(), '3000000', again.stderr);
      const repull = await fresh.berthAsync(['pull', `${reg.host}/lab/big:v1`]);
      assert.equal(repull.code, 0, repull.stderr);
      assert.doesNotMatch(repull.stdout, /Pull complete/, 'nothing is downloaded again');
      // rmi: the compressed blobs go with the image.
      assert.equal(fresh.berth(['rmi', `${reg.host}/lab/big:v1`, `${reg.host}/other/big:v2`]).code, 0);
      assert.deepEqual(fs.readdirSync(path.join(fresh.root, 'images', 'blobs', 'sha256')), []);
    } finally {
      await fresh.cleanup();
    }
  });
});

describe('login', () => {
  it('basic auth: refused without login and with a wrong password; push and pull after login; docker-compatible file', async () => {
    const authReg = await startRegistry(path.join(s.root, 'auth-registry'), { htpasswd: { user: 'ada', password: 'lovelace' } });
    const cfgDir = path.join(s.root, 'docker-config');
    const env = { ...s.env, DOCKER_CONFIG: cfgDir };
    const as = (args: string[], input = '') => {
      const r = spawnSync(process.execPath, [require('./helpers').cliPath, ...args], { env, encoding: 'utf8', input });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    try {
      as(['tag', 'busybox', `${authReg.host}/private/bb:v1`]);
      assert.match(as(['push', `${authReg.host}/private/bb:v1`]).stderr, /asks for a login; run `berth login 127\.0\.0\.1:\d+`/);
      const wrong = as(['login', '-u', 'ada', '--password-stdin', authReg.host], 'wrong\n');
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /login attempt to http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401/);
      const ok = as(['login', '-u', 'ada', '--password-stdin', authReg.host], 'lovelace\n');
      assert.equal(ok.stdout, 'Login Succeeded\n', ok.stderr);
      const cfg = JSON.parse(fs.readFileSync(path.join(cfgDir, 'config.json'), 'utf8'));
      assert.equal(Buffer.from(cfg.auths[authReg.host].auth, 'base64').toString(), 'ada:lovelace');
      assert.equal(as(['push', `${authReg.host}/private/bb:v1`]).code, 0);
      // skopeo reads the same credentials file.
      skopeo(['inspect', '--tls-verify=false', '--authfile', path.join(cfgDir, 'config.json'), `docker://${authReg.host}/private/bb:v1`], env);
      as(['rmi', `${authReg.host}/private/bb:v1`]);
      assert.equal(as(['pull', `${authReg.host}/private/bb:v1`]).code, 0);
      assert.match(as(['logout', authReg.host]).stdout, /Removing login credentials for 127\.0\.0\.1:\d+/);
      assert.match(as(['pull', `${authReg.host}/private/bb:v1`]).stderr, /asks for a login/);
    } finally {
      await authReg.stop();
    }
  });
});

// A token issuer for the test: answers the registry's Bearer challenges
// with RS256 JWTs whose x5c certificate the registry trusts (rootcertbundle),
// granting exactly the scope asked for, and only to ada:lovelace.
async function tokenIssuer(dir: string, service: string, issuer: string): Promise<{ realm: string; certFile: string; scopes: string[]; close(): void }> {
  const crypto = await import('crypto');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=berth-test-token'], { stdio: 'ignore' });
  const key = fs.readFileSync(path.join(dir, 'key.pem'));
  const der = new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'cert.pem'))).raw.toString('base64');
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const scopes: string[] = [];
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const auth = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (auth !== 'ada:lovelace') {
      res.writeHead(401).end();
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    scopes.push(scope);
    const access = scope.split(' ').filter(Boolean).map((sc) => {
      const [type, name, actions] = sc.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const head = b64({ typ: 'JWT', alg: 'RS256', x5c: [der] });
    const body = b64({ iss: issuer, sub: 'ada', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomBytes(8).toString('hex'), access });
    const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${body}.${sig}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { realm: `http://127.0.0.1:${port}/token`, certFile: path.join(dir, 'cert.pem'), scopes, close: () => server.close() };
}

describe('token auth', () => {
  it('pulls and pushes with scoped Bearer tokens from the registry\'s token service', async () => {
    const dir = path.join(s.root, 'token-registry');
    fs.mkdirSync(dir, { recursive: true });
    const issuer = await tokenIssuer(dir, 'berth-test-registry', 'berth-test-issuer');
    const tokReg = await startRegistry(dir, { token: { realm: issuer.realm, service: 'berth-test-registry', issuer: 'berth-test-issuer', certFile: issuer.certFile } });
    const cfgDir = path.join(s.root, 'token-config');
    const env = { ...s.env, DOCKER_CONFIG: cfgDir };
    const as = (args: string[], input = '') => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = require('child_process').spawn(process.execPath, [require('./helpers').cliPath, ...args], { env });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d));
      c.stderr.on('data', (d: Buffer) => (stderr += d));
      c.stdin.end(input);
      c.on('close', (code: number | null) => resolve({ code, stdout, stderr }));
    });
    try {
      await as(['tag', 'busybox', `${tokReg.host}/team/app:v1`]);
      assert.match((await as(['push', `${tokReg.host}/team/app:v1`])).stderr, /token service of 127\.0\.0\.1:\d+ refused: HTTP 401; check `berth login`/);
      assert.equal((await as(['login', '-u', 'ada', '--password-stdin', tokReg.host], 'lovelace\n')).stdout, 'Login Succeeded\n');
      const pushed = await as(['push', `${tokReg.host}/team/app:v1`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.ok(issuer.scopes.includes('repository:team/app:pull,push'), issuer.scopes.join(' | '));
      await as(['rmi', `${tokReg.host}/team/app:v1`]);
      const pulled = await as(['pull', `${tokReg.host}/team/app:v1`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.ok(issuer.scopes.includes('repository:team/app:pull'), issuer.scopes.join(' | '));
    } finally {
      await tokReg.stop();
      issuer.close();
    }
  });
});

describe('a registry by IPv6 address', () => {
  it('push and pull [::1]:PORT/lab/busybox: the bracketed host is a registry, not a path', async () => {
    const v6 = await startRegistry(path.join(s.root, 'registry-v6'), { ipv6: true });
    try {
      const ref = `${v6.host}/lab/busybox:v6`;
      assert.equal(s.berth(['tag', 'busybox', ref]).code, 0);
      const pushed = s.berth(['push', ref]);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stdout, /v6: digest: sha256:[0-9a-f]{64}/);
      const pulled = clean.berth(['pull', ref]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(clean.berth(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout, new RegExp(`^\\[::1\\]:\\d+/lab/busybox:v6$`, 'm'));
      assert.equal(clean.berth(['run', '--rm', '--network', 'none', ref, 'echo', 'over-ipv6']).stdout, 'over-ipv6\n');
    } finally {
      s.berth(['rmi', `${v6.host}/lab/busybox:v6`]);
      clean.berth(['rmi', `${v6.host}/lab/busybox:v6`]);
      await v6.stop();
    }
  });
});

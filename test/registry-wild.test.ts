// Registries as users meet them: zstd layers (made by skopeo), behind a mirror, with TLS from a private CA (certs.d, client
// certificates), behind a forward proxy (Debian's tinyproxy), logins kept
// by a credential helper
// (docker's protocol, spoken by a helper script written here) against a
// real docker-registry with htpasswd, and registries that rate-limit or
// deny, answered in words a user can act on.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { busyboxTar, cliPath, TestStore, testStore } from './helpers';
import { Proxy, startProxy } from './proxy-server';
import { Registry, startRegistry } from './registry-server';

let s: TestStore;
before(async () => {
  s = await testStore('registry-wild');
});
after(async () => {
  await s.cleanup();
});

// docker-credential-berthtest: keeps what it is given in a JSON file, and
// says "credentials not found" as docker's helpers do.
const HELPER = `#!/bin/sh
store="$BERTH_TEST_HELPER_STORE"
[ -f "$store" ] || echo '{}' > "$store"
echo "$1" >> "$store.calls"
case "$1" in
  get) read -r server; python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=sys.argv[2]
if s in d: print(json.dumps({"ServerURL": s, "Username": d[s]["Username"], "Secret": d[s]["Secret"]}))
else: print("credentials not found in native keychain"); sys.exit(1)' "$store" "$server" ;;
  store) python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=json.load(sys.stdin); d[c["ServerURL"]]=c; json.dump(d, open(sys.argv[1], "w"))' "$store" ;;
  erase) read -r server; python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop(sys.argv[2], None); json.dump(d, open(sys.argv[1], "w"))' "$store" "$server" ;;
  *) echo "unknown verb $1" >&2; exit 2 ;;
esac
`;

describe('credential helpers', () => {
  let reg: Registry;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const as = (args: string[], input = '') => {
    const r = spawnSync(process.execPath, [cliPath, ...args], { env, encoding: 'utf8', input });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const helperStore = () => JSON.parse(fs.readFileSync(path.join(dir, 'helper.json'), 'utf8'));
  const config = (c: object) => fs.writeFileSync(path.join(dir, 'docker', 'config.json'), JSON.stringify(c));

  before(async () => {
    dir = fs.mkdtempSync(path.join(s.root, 'creds-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'docker'));
    fs.writeFileSync(path.join(dir, 'bin', 'docker-credential-berthtest'), HELPER, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'bin', 'docker-credential-broken'), '#!/bin/sh\necho "the keyring is locked" >&2\nexit 3\n', { mode: 0o755 });
    env = { ...s.env, DOCKER_CONFIG: path.join(dir, 'docker'), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, BERTH_TEST_HELPER_STORE: path.join(dir, 'helper.json') };
    reg = await startRegistry(path.join(dir, 'registry'), { htpasswd: { user: 'ada', password: 'lovelace' } });
    assert.equal(as(['tag', 'busybox', `${reg.host}/private/bb:v1`]).code, 0);
  });
  after(async () => {
    await reg?.stop();
  });

  it('login stores through credsStore, pushes and pulls use it, logout erases it; config.json keeps no secret', () => {
    config({ credsStore: 'berthtest' });
    const login = as(['login', '-u', 'ada', '--password-stdin', reg.host], 'lovelace\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    assert.doesNotMatch(login.stderr, /unencrypted/);
    assert.deepEqual(helperStore()[reg.host], { ServerURL: reg.host, Username: 'ada', Secret: 'lovelace' });
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'docker', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.auths[reg.host], {});
    assert.equal(cfg.credsStore, 'berthtest');
    const push = as(['push', `${reg.host}/private/bb:v1`]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal(as(['rmi', `${reg.host}/private/bb:v1`]).code, 0);
    const pull = as(['pull', `${reg.host}/private/bb:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(fs.readFileSync(path.join(dir, 'helper.json.calls'), 'utf8'), /^store\nget\n/);
    assert.equal(as(['logout', reg.host]).stdout, `Removing login credentials for ${reg.host}\n`);
    assert.equal(helperStore()[reg.host], undefined);
    assert.match(as(['push', `${reg.host}/private/bb:v1`]).stderr, /asks for a login; run `berth login 127\.0\.0\.1:\d+`/);
  });

  it('credHelpers choose a helper per registry, over credsStore', () => {
    config({ credsStore: 'broken', credHelpers: { [reg.host]: 'berthtest' } });
    assert.equal(as(['login', '-u', 'ada', '--password-stdin', reg.host], 'lovelace\n').code, 0);
    assert.equal(helperStore()[reg.host].Secret, 'lovelace');
    assert.equal(as(['push', `${reg.host}/private/bb:v1`]).code, 0);
  });

  it('a helper that fails or is missing is named, with what it said', () => {
    config({ credHelpers: { [reg.host]: 'broken' } });
    const broken = as(['pull', `${reg.host}/private/bb:v1`]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /the credential helper docker-credential-broken \(credHelpers\["127\.0\.0\.1:\d+"\] in .*config\.json\) failed to get the credentials of 127\.0\.0\.1:\d+: the keyring is locked/);
    config({ credsStore: 'nowhere' });
    const missing = as(['pull', `${reg.host}/private/bb:v1`]);
    assert.match(missing.stderr, /the credential helper docker-credential-nowhere \(credsStore in .*config\.json\) is not installed \(not on PATH\): install it, or take it out of that file/);
  });

  it('login leaves the credentials file 0600, whatever mode it had', () => {
    config({});
    const file = path.join(dir, 'docker', 'config.json');
    fs.chmodSync(file, 0o644);
    const login = as(['login', '-u', 'ada', '--password-stdin', reg.host], 'lovelace\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(file, 'utf8'), /"auth"/);
  });

  it('without a helper, login says the password is kept unencrypted, as docker does', () => {
    config({});
    const login = as(['login', '-u', 'ada', '--password-stdin', reg.host], 'lovelace\n');
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /WARNING! Your password will be stored unencrypted in .*docker\/config\.json\./);
  });
});

describe('registries that refuse', () => {
  let server: http.Server;
  let host: string;
  before(async () => {
    // A registry front that rate-limits manifests of one repository and denies another.
    server = http.createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      if (req.url?.startsWith('/v2/busy/')) return void res.writeHead(429, { 'retry-after': '120', 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
      if (req.url?.startsWith('/v2/team/secret/')) return void res.writeHead(403).end('{"errors":[{"code":"DENIED"}]}');
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  // berthAsync: the server answers from this process, which must not block.
  it('429: the limit and when to try again', async () => {
    const t0 = Date.now();
    const r = await s.berthAsync(['pull', `${host}/busy/app:v1`]);
    assert.equal(r.code, 1);
    const m = /refused: too many requests \(HTTP 429\); the limit is 100 requests per 6 hours; try again after (\S+)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    const at = Date.parse(m[1]);
    assert.ok(at >= Math.floor(t0 / 1000) * 1000 + 119000 && at <= Date.now() + 121000, `retry time ${m[1]} is 120 s on`);
  });

  it('403: the access that was denied, on which repository', async () => {
    const r = await s.berthAsync(['pull', `${host}/team/secret:v1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /127\.0\.0\.1:\d+ denied pull access to team\/secret \(HTTP 403\): pull access to team\/secret needs a login; check the name, and berth login 127\.0\.0\.1:\d+ if it is private/);
  });
});

describe('registries that flood', () => {
  // A hostile registry (or mirror) that answers with 256 MiB where a few
  // KiB belong: a manifest, a config, a token. Sent chunked, with no
  // length, so only a reader that counts can stop it.
  const FLOOD = 256 << 20;
  let server: http.Server;
  let host: string;
  let dir: string;
  const flood = (res: http.ServerResponse, type: string) => {
    res.writeHead(200, { 'content-type': type });
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const more = () => {
      while (sent < FLOOD) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('close', () => (sent = FLOOD));
    more();
  };
  before(async () => {
    dir = fs.mkdtempSync(path.join(s.root, 'flood-'));
    // The CLI's peak RSS, written as it exits.
    fs.writeFileSync(path.join(dir, 'maxrss.js'), `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'rss'))}, String(process.resourceUsage().maxRSS)));\n`);
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return void res.writeHead(200).end('{}');
      if (url.startsWith('/v2/flood/app/manifests/')) return flood(res, 'application/vnd.oci.image.manifest.v1+json');
      if (url.startsWith('/v2/bigcfg/app/manifests/')) {
        const m = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 }, layers: [] };
        return void res.writeHead(200, { 'content-type': m.mediaType }).end(JSON.stringify(m));
      }
      if (url.startsWith('/v2/bigcfg/app/blobs/')) return flood(res, 'application/octet-stream');
      if (url.startsWith('/token')) return flood(res, 'application/json');
      if (url === '/big.bin') return flood(res, 'application/octet-stream');
      if (url.startsWith('/v2/tok/')) return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="flood"` }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const pull = (ref: string) => berthRss(['pull', ref]);
  const berthRss = async (args: string[]) => {
    fs.rmSync(path.join(dir, 'rss'), { force: true });
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--require', path.join(dir, 'maxrss.js'), cliPath, ...args], { env: s.env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    });
    return { ...r, rssMiB: Number(fs.readFileSync(path.join(dir, 'rss'), 'utf8')) / 1024 };
  };

  for (const [repo, what] of [
    ['flood', /sent more than 4 MiB for the manifest of flood\/app:v1, the most Berth reads for one/],
    ['bigcfg', /sent more than 4 MiB for the config of .*bigcfg\/app:v1, the most Berth reads for one/],
    ['tok', /the token service of 127\.0\.0\.1:\d+ sent more than 64 KiB, the most Berth reads for a token/],
  ] as const) {
    it(`stops reading a ${repo === 'tok' ? 'token' : repo === 'flood' ? 'manifest' : 'config'} past its bound, with a clear error and little memory`, async () => {
      const r = await pull(`${host}/${repo}/app:v1`);
      assert.equal(r.code, 1);
      assert.match(r.stderr, what);
      assert.doesNotMatch(r.stderr, /internal error|    at /);
      // Without the bound the CLI held all 256 MiB (over 1 GB RSS); skopeo stays near 32 MB.
      assert.ok(r.rssMiB < 150, `peak RSS ${r.rssMiB.toFixed(0)} MiB`);
      assert.equal(s.berth(['images', '-q', `${host}/${repo}/app:v1`]).stdout, '');
    });
  }

  it('ADD <url> streams a large download to disk, never holding it in memory', async () => {
    const ctx = path.join(dir, 'add-ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nADD http://${host}/big.bin /big.bin\n`);
    const r = await berthRss(['build', '-q', '-t', 'flood-add', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.rssMiB < 150, `peak RSS ${r.rssMiB.toFixed(0)} MiB for a ${FLOOD >> 20} MiB download`);
    assert.equal(s.berth(['run', '--rm', '--network', 'none', 'flood-add', 'stat', '-c', '%s', '/big.bin']).stdout.trim(), String(FLOOD));
    assert.equal(s.berth(['rmi', 'flood-add']).code, 0);
  });
});

describe('through a proxy', () => {
  let reg: Registry;
  let proxy: Proxy;
  let name: string;
  const env = (extra: NodeJS.ProcessEnv) => ({ ...s.env, ...extra });
  const pull = (extra: NodeJS.ProcessEnv) => spawnSync(process.execPath, [cliPath, 'pull', `${name}/lab/bb:v1`], { env: env(extra), encoding: 'utf8' });

  before(async () => {
    const dir = fs.mkdtempSync(path.join(s.root, 'proxy-'));
    reg = await startRegistry(path.join(dir, 'registry'));
    // A name only the proxy can resolve (see proxy-server.ts), served plainly.
    name = `registry.berth.test:${reg.host.split(':')[1]}`;
    proxy = await startProxy(path.join(dir, 'proxy'), { 'registry.berth.test': '127.0.0.1' });
    assert.equal(s.berth(['tag', 'busybox', `${reg.host}/lab/bb:v1`]).code, 0);
    assert.equal(s.berth(['push', `${reg.host}/lab/bb:v1`]).code, 0);
  });
  after(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it('pulls through HTTP_PROXY, as the proxy\'s log shows', () => {
    const r = pull({ HTTP_PROXY: proxy.url, BERTH_INSECURE_REGISTRIES: name });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Status: Downloaded newer image for registry\.berth\.test:\d+\/lab\/bb:v1/);
    assert.match(proxy.log(), /registry\.berth\.test/);
    assert.match(s.berth(['run', '--rm', `${name}/lab/bb:v1`, 'echo', 'pulled through the proxy']).stdout, /pulled through the proxy/);
  });

  it('goes direct for NO_PROXY hosts, and says which proxy failed when one is down', () => {
    const before = proxy.log().length;
    // Direct, the name is not on loopback: the suite's offline guard stops it
    // before any lookup, which shows the proxy was passed over.
    const direct = pull({ HTTP_PROXY: proxy.url, NO_PROXY: '.berth.test', BERTH_INSECURE_REGISTRIES: name });
    assert.notEqual(direct.status, 0);
    assert.match(direct.stderr, /cannot reach registry registry\.berth\.test:\d+: only loopback registries are allowed while BERTH_OFFLINE=1/);
    assert.doesNotMatch(direct.stderr, /through the proxy/);
    assert.equal(proxy.log().slice(before).includes('registry.berth.test'), false, 'NO_PROXY kept the request away from the proxy');
    const down = pull({ http_proxy: 'http://127.0.0.1:9', BERTH_INSECURE_REGISTRIES: name });
    assert.notEqual(down.status, 0);
    assert.match(down.stderr, /through the proxy http:\/\/127\.0\.0\.1:9 \(from HTTP_PROXY\): .*check the proxy, or add the host to NO_PROXY/);
  });
});

// A CA, and a certificate it signs for CN (with the SAN given), by openssl.
function makeCa(dir: string, name: string): { crt: string; key: string } {
  const key = path.join(dir, `${name}.key`), crt = path.join(dir, `${name}.crt`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', `/CN=${name}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { crt, key };
}
function sign(dir: string, name: string, ca: { crt: string; key: string }, ext: string): { crt: string; key: string } {
  const key = path.join(dir, `${name}.key`), csr = path.join(dir, `${name}.csr`), crt = path.join(dir, `${name}.crt`), extFile = path.join(dir, `${name}.ext`);
  fs.writeFileSync(extFile, `${ext}\n`);
  let r = spawnSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  r = spawnSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-out', crt, '-days', '2', '-extfile', extFile], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { crt, key };
}

describe('registries with their own CA', () => {
  let plainTls: Registry;
  let mutual: Registry;
  let certsD: string;
  const put = (reg: Registry, files: Record<string, string>) => {
    const d = path.join(certsD, reg.host);
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d, { recursive: true });
    for (const [n, from] of Object.entries(files)) fs.copyFileSync(from, path.join(d, n));
  };

  before(async () => {
    const dir = fs.mkdtempSync(path.join(s.root, 'tls-'));
    const ca = makeCa(dir, 'berth-test-ca');
    const other = makeCa(dir, 'some-other-ca');
    const clientCa = makeCa(dir, 'berth-client-ca');
    const server = sign(dir, 'registry', ca, 'subjectAltName=IP:127.0.0.1');
    const client = sign(dir, 'client', clientCa, 'extendedKeyUsage=clientAuth');
    plainTls = await startRegistry(path.join(dir, 'reg-tls'), { tls: { cert: server.crt, key: server.key } });
    mutual = await startRegistry(path.join(dir, 'reg-mtls'), { tls: { cert: server.crt, key: server.key, clientCa: clientCa.crt } });
    certsD = path.join(s.env.BERTH_CONFIG!, 'certs.d');
    Object.assign(files, { ca: ca.crt, other: other.crt, clientCert: client.crt, clientKey: client.key });
    for (const reg of [plainTls, mutual]) assert.equal(s.berth(['tag', 'busybox', `${reg.host}/lab/bb:v1`]).code, 0);
  });
  const files: Record<string, string> = {};
  after(async () => {
    await plainTls?.stop();
    await mutual?.stop();
  });

  it('refuses a certificate from a CA it was not given, saying where the CA goes; --tls-verify=false is the way out', () => {
    put(plainTls, { 'other.crt': files.other });
    const r = s.berth(['push', `${plainTls.host}/lab/bb:v1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach registry 127\.0\.0\.1:\d+: its certificate is signed by a CA Berth does not trust \([A-Z_]+\): put that CA in .*certs\.d\/127\.0\.0\.1:\d+\/ca\.crt .*or pass --tls-verify=false/);
    const insecure = s.berth(['push', '--tls-verify=false', `${plainTls.host}/lab/bb:v1`]);
    assert.equal(insecure.code, 0, insecure.stderr);
  });

  it('trusts the CA in certs.d/HOST:PORT/ca.crt, beside the system\'s', () => {
    put(plainTls, { 'ca.crt': files.ca });
    assert.equal(s.berth(['rmi', `${plainTls.host}/lab/bb:v1`]).code, 0);
    const pull = s.berth(['pull', `${plainTls.host}/lab/bb:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Status: Downloaded newer image/);
  });

  it('gives a client certificate (client.cert, client.key) where the registry asks for one', () => {
    put(mutual, { 'ca.crt': files.ca });
    const refused = s.berth(['push', `${mutual.host}/lab/bb:v1`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot reach registry 127\.0\.0\.1:\d+: it asks for a client certificate it accepts \([A-Z_0-9]+\): put client\.cert and client\.key in .*certs\.d\/127\.0\.0\.1:\d+\//);
    put(mutual, { 'ca.crt': files.ca, 'client.cert': files.clientCert, 'client.key': files.clientKey });
    const ok = s.berth(['push', `${mutual.host}/lab/bb:v1`]);
    assert.equal(ok.code, 0, ok.stderr);
    put(mutual, { 'ca.crt': files.ca, 'client.key': files.clientKey });
    assert.match(s.berth(['push', `${mutual.host}/lab/bb:v1`]).stderr, /client\.key has no certificate beside it: a client key needs client\.cert/);
  });
});

describe('mirrors', () => {
  let upstream: Registry;
  let mirror: Registry;
  let name: string;
  const yamlFile = () => path.join(s.env.BERTH_CONFIG!, 'registries.yaml');

  before(async () => {
    const dir = fs.mkdtempSync(path.join(s.root, 'mirrors-'));
    upstream = await startRegistry(path.join(dir, 'upstream'));
    mirror = await startRegistry(path.join(dir, 'mirror'));
    name = `${upstream.host}/lab/app:v1`;
    // One name, two images: which one a run prints says where the pull went.
    for (const [reg, who] of [[upstream, 'the upstream'], [mirror, 'the mirror']] as const) {
      const tag = `${reg.host}/lab/app:v1`;
      assert.equal(s.berth(['import', '-c', `CMD ["echo", "served by ${who}"]`, busyboxTar, tag]).code, 0);
      assert.equal(s.berth(['push', tag]).code, 0);
      assert.equal(s.berth(['rmi', tag]).code, 0);
    }
    fs.mkdirSync(path.dirname(yamlFile()), { recursive: true });
    fs.writeFileSync(yamlFile(), `registries:\n  - location: ${upstream.host}\n    mirrors:\n      - location: ${mirror.host}\n        insecure: true\n`);
  });
  after(async () => {
    fs.rmSync(yamlFile(), { force: true });
    await mirror?.stop();
    await upstream?.stop();
  });

  it('pulls from the mirror first, and keeps the registry\'s own name', () => {
    const pull = s.berth(['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(s.berth(['run', '--rm', name]).stdout, 'served by the mirror\n');
    assert.deepEqual(JSON.parse(s.berth(['inspect', '-f', '{{json .RepoTags}}', name]).stdout), [name]);
    assert.match(s.berth(['inspect', '-f', '{{json .RepoDigests}}', name]).stdout, new RegExp(`^\\["${upstream.host.replace(/\./g, '\\.')}/lab/app@sha256:[0-9a-f]{64}"\\]`));
  });

  it('falls back to the registry when the mirror is down, and says so', async () => {
    await mirror.stop();
    assert.equal(s.berth(['rmi', name]).code, 0);
    const pull = s.berth(['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stderr, new RegExp(`the mirror ${mirror.host.replace(/\./g, '\\.')} failed \\(cannot reach registry .*\\); pulling from ${upstream.host.replace(/\./g, '\\.')} instead`));
    assert.equal(s.berth(['run', '--rm', name]).stdout, 'served by the upstream\n');
  });

  it('refuses a registries.yaml it cannot read fully, naming the file and the key', () => {
    const good = fs.readFileSync(yamlFile(), 'utf8');
    try {
      fs.writeFileSync(yamlFile(), `registries:\n  - location: ${upstream.host}\n    mirror:\n      - location: ${mirror.host}\n`);
      const r = s.berth(['pull', name]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /registries\.yaml: registries\[0\] has an unknown key "mirror" \(known: location, insecure, mirrors\)/);
    } finally {
      fs.writeFileSync(yamlFile(), good);
    }
  });
});

describe('zstd layers', () => {
  let reg: Registry;
  let dir: string;
  // A store with nothing in it: every layer must come through the decoder.
  const fresh = (name: string) => {
    const root = path.join(dir, name);
    return { ...s.env, BERTH_ROOT: root, BERTH_RUN: path.join(root, 'run') };
  };
  const in_ = (env: NodeJS.ProcessEnv, args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { env, encoding: 'utf8' });

  before(async () => {
    dir = fs.mkdtempSync(path.join(s.root, 'zstd-'));
    reg = await startRegistry(path.join(dir, 'registry'));
    assert.equal(s.berth(['import', '-c', 'CMD ["echo", "unpacked from zstd"]', busyboxTar, `${reg.host}/lab/z:gz`]).code, 0);
    assert.equal(s.berth(['push', `${reg.host}/lab/z:gz`]).code, 0);
    // Recompressed by skopeo into an OCI layout (a registry would have the gzip blob reused).
    const oci = path.join(dir, 'oci');
    let r = spawnSync('skopeo', ['copy', '-q', '--format', 'oci', '--dest-compress', '--dest-compress-format', 'zstd', '--src-tls-verify=false', `docker://${reg.host}/lab/z:gz`, `oci:${oci}:z`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    r = spawnSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${oci}:z`, `docker://${reg.host}/lab/z:zstd`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    r = spawnSync('skopeo', ['copy', '-q', `oci:${oci}:z`, `oci-archive:${path.join(dir, 'z.tar')}:lab/z:zstd`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const manifest = await (await fetch(`http://${reg.host}/v2/lab/z/manifests/zstd`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: Array<{ mediaType: string }> };
    assert.deepEqual(manifest.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+zstd']);
  });
  after(async () => {
    await reg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pulls an image whose layers are zstd, and runs it', () => {
    const env = fresh('pull');
    const pull = in_(env, ['pull', `${reg.host}/lab/z:zstd`]);
    assert.equal(pull.status, 0, pull.stderr);
    assert.match(pull.stdout, /: Pull complete\n/);
    assert.equal(in_(env, ['run', '--rm', `${reg.host}/lab/z:zstd`]).stdout, 'unpacked from zstd\n');
  });

  it('decodes a zstd layer to its diff ID, and refuses one cut short', async () => {
    const { decompressors } = await import('../kernel/engine/images/decompress');
    const { pipeline } = await import('stream/promises');
    const { createHash } = await import('crypto');
    const oci = path.join(dir, 'oci');
    const index = JSON.parse(fs.readFileSync(path.join(oci, 'index.json'), 'utf8'));
    const blob = (d: string) => path.join(oci, 'blobs', 'sha256', d.slice(7));
    const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
    const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8'));
    const layer = fs.readFileSync(blob(manifest.layers[0].digest));
    const digestOf = async (bytes: Buffer) => {
      const h = createHash('sha256');
      await pipeline([(await import('stream')).Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), ...decompressors('zstd'), h]);
      return `sha256:${h.digest('hex')}`;
    };
    assert.equal(await digestOf(layer), config.rootfs.diff_ids[0]);
    await assert.rejects(digestOf(layer.subarray(0, layer.length - 100)), /zstd: the data ended in the middle of a frame \(truncated\)/);
  });

  it('push --compression zstd: an OCI manifest of zstd layers that skopeo reads, the same digest each time, pulled and run', async () => {
    const inspectRaw = (tag: string) => JSON.parse(spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lab/z:${tag}`], { encoding: 'utf8' }).stdout);
    const push = s.berth(['push', '--compression', 'zstd', `${reg.host}/lab/z:gz`]);
    assert.equal(push.code, 0, push.stderr);
    const m = inspectRaw('gz');
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(m.layers.map((l: { mediaType: string }) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+zstd']);
    // skopeo decodes and checks every blob on the way to a directory.
    const copy = spawnSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/lab/z:gz`, `dir:${path.join(dir, 'zdir')}`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    // Deterministic: the same layer compresses to the same blob again.
    assert.equal(s.berth(['tag', `${reg.host}/lab/z:gz`, `${reg.host}/lab/z2:again`]).code, 0);
    assert.equal(s.berth(['push', '--compression-format=zstd', `${reg.host}/lab/z2:again`]).code, 0);
    const again = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lab/z2:again`], { encoding: 'utf8' }).stdout);
    assert.equal(again.layers[0].digest, m.layers[0].digest);
    const env = fresh('pushed-zstd');
    assert.equal(in_(env, ['pull', `${reg.host}/lab/z:gz`]).status, 0);
    assert.equal(in_(env, ['run', '--rm', `${reg.host}/lab/z:gz`]).stdout, 'unpacked from zstd\n');
    // That pulled zstd layer, pushed back as gzip: decoded and recompressed, and still whole.
    const back = in_(env, ['push', '--compression', 'gzip', `${reg.host}/lab/z:gz`]);
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(inspectRaw('gz').layers.map((l: { mediaType: string }) => l.mediaType), ['application/vnd.docker.image.rootfs.diff.tar.gzip']);
    const env2 = fresh('pushed-back');
    assert.equal(in_(env2, ['pull', `${reg.host}/lab/z:gz`]).status, 0);
    assert.equal(in_(env2, ['run', '--rm', `${reg.host}/lab/z:gz`]).stdout, 'unpacked from zstd\n');
    const bad = s.berth(['push', '--compression', 'lz4', `${reg.host}/lab/z:gz`]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid argument "lz4" for "--compression" flag: choose gzip or zstd/);
  });

  it('loads an OCI archive whose layers are zstd, and runs it', () => {
    const env = fresh('load');
    const load = in_(env, ['load', '-i', path.join(dir, 'z.tar')]);
    assert.equal(load.status, 0, load.stderr);
    assert.equal(in_(env, ['run', '--rm', 'lab/z:zstd']).stdout, 'unpacked from zstd\n');
  });
});

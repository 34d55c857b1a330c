// Debian's docker-registry (CNCF distribution) on 127.0.0.1 for one test
// file, started and stopped by process id; htpasswd or token auth optional.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export interface Registry {
  host: string; // "127.0.0.1:PORT"
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

// tls: serve HTTPS with this certificate, and ask for a client certificate
// from clientCa when it is given.
// Whether something listens on HOST:PORT yet.
export function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((r) => {
    const c = net.connect(port, host, () => (c.end(), r(true))).on('error', () => r(false));
  });
}

export async function startRegistry(dir: string, opts: { htpasswd?: { user: string; password: string }; token?: { realm: string; service: string; issuer: string; certFile: string }; ipv6?: boolean; tls?: { cert: string; key: string; clientCa?: string } } = {}): Promise<Registry> {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const port = await freePort();
  // ipv6: on the loopback's ::1 (of the suite's own network namespace).
  const host = opts.ipv6 ? `[::1]:${port}` : `127.0.0.1:${port}`;
  let auth = '';
  if (opts.htpasswd) {
    const r = spawnSync('htpasswd', ['-Bbn', opts.htpasswd.user, opts.htpasswd.password], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, 'htpasswd'), r.stdout);
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
  } else if (opts.token) {
    auth = `auth:\n  token:\n    realm: ${opts.token.realm}\n    service: ${opts.token.service}\n    issuer: ${opts.token.issuer}\n    rootcertbundle: ${opts.token.certFile}\n`;
  }
  const tls = opts.tls ? `  tls:\n    certificate: ${opts.tls.cert}\n    key: ${opts.tls.key}\n${opts.tls.clientCa ? `    clientcas:\n      - ${opts.tls.clientCa}\n` : ''}` : '';
  fs.writeFileSync(path.join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: "${host}"\n${tls}${auth}`);
  const child: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  for (let i = 0; ; i++) {
    if (opts.tls) {
      // Listening is enough to know it is up (its TLS is what the tests check).
      const [h, p] = [host.slice(0, host.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(host.slice(host.lastIndexOf(':') + 1))];
      if (await listening(p, h)) break;
    } else {
      try {
        const r = await fetch(`http://${host}/v2/`);
        if (r.status === 200 || r.status === 401) break;
      } catch {
        /* not up yet */
      }
    }
    if (i > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(); // already stopped
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

// Debian's tinyproxy (tinyproxy-bin) on 127.0.0.1 for one test file,
// started and stopped by process id. It runs in a mount namespace of its
// own with a hosts file of the test's, so names the test makes up (which
// nothing else here resolves) lead it to servers on loopback: a request
// that reached such a name can only have gone through the proxy.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, listening } from './registry-server';

export interface Proxy {
  url: string; // http://127.0.0.1:PORT
  log(): string; // what it logged so far
  stop(): Promise<void>;
}

export async function startProxy(dir: string, hosts: Record<string, string>): Promise<Proxy> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logFile = path.join(dir, 'tinyproxy.log');
  const hostsFile = path.join(dir, 'hosts');
  fs.writeFileSync(hostsFile, ['127.0.0.1 localhost', ...Object.entries(hosts).map(([n, ip]) => `${ip} ${n}`)].join('\n') + '\n');
  // No ConnectPort line: CONNECT to any port (a registry's is not 443 here).
  fs.writeFileSync(path.join(dir, 'tinyproxy.conf'), [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 30', `LogFile "${logFile}"`, 'LogLevel Connect', 'MaxClients 20', 'Allow 127.0.0.1', 'DisableViaHeader Yes'].join('\n') + '\n');
  const child: ChildProcess = spawn('unshare', ['--mount', '--', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec tinyproxy -d -c "$2"', 'sh', hostsFile, path.join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  for (let i = 0; ; i++) {
    if (await listening(port)) break;
    if (i > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`tinyproxy did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

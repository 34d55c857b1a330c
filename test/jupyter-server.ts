// Starts a real jupyter_server (Debian python3-jupyter-server) on 127.0.0.1
// for one test file, with the Berth kernelspec on its JUPYTER_PATH, and stops
// it by process id.
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as net from 'net';
import * as path from 'path';

export interface JupyterServer {
  url: string;
  token: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startJupyterServer(env: NodeJS.ProcessEnv, rootDir: string, app: 'server' | 'notebook' = 'server'): Promise<JupyterServer> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const args = app === 'server'
    ? ['-m', 'jupyter_server', `--ServerApp.ip=127.0.0.1`, `--ServerApp.port=${port}`, `--ServerApp.token=${token}`, '--ServerApp.open_browser=False', '--allow-root', `--ServerApp.root_dir=${rootDir}`]
    : ['-m', 'notebook', `--NotebookApp.ip=127.0.0.1`, `--NotebookApp.port=${port}`, `--NotebookApp.token=${token}`, '--NotebookApp.open_browser=False', '--allow-root', `--NotebookApp.notebook_dir=${rootDir}`];
  const child: ChildProcess = spawn('/usr/bin/python3', args, { env: { ...env, JUPYTER_RUNTIME_DIR: path.join(rootDir, '.runtime') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyter ${app} exited: ${log}`);
    try {
      const r = await fetch(`${url}/api?token=${token}`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`jupyter ${app} did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    token,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

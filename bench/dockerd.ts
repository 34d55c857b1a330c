// A private docker engine for the BuildKit anchor: Debian's dockerd (docker
// build runs BuildKit in it), started by the benchmark inside the network
// namespace the benchmark made, with no bridge and no iptables rules, its
// state in a temporary directory and its cgroups under one parent that is
// removed after. It is stopped by its process id. An engine already
// running (DOCKER_HOST or /var/run/docker.sock) is used as it is instead.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface DockerEngine {
  docker(args: string[], opts?: { input?: Buffer }): { code: number; stdout: string; stderr: string };
  version: string;
  stop(): Promise<void>;
}

const CLIENT = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const CGROUP_PARENT = `berth-bench-docker-${process.pid}`;

function client(host: string) {
  return (args: string[], opts: { input?: Buffer } = {}) => {
    const r = spawnSync(CLIENT, ['-H', host, ...args], { input: opts.input, env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 1 << 30 });
    return { code: r.status ?? -1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
  };
}

function removeCgroups(): void {
  // Every v1 controller and the v2 tree: the parent dockerd made, deepest first.
  for (const base of ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c))]) {
    const top = path.join(base, CGROUP_PARENT);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      dirs.push(d);
    };
    walk(top);
    for (const d of dirs) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* busy or already gone */
      }
    }
  }
}

export async function startDocker(): Promise<DockerEngine | undefined> {
  const existing = process.env.DOCKER_HOST || (fs.existsSync('/var/run/docker.sock') ? 'unix:///var/run/docker.sock' : '');
  if (existing && client(existing)(['info']).code === 0) {
    return { docker: client(existing), version: client(existing)(['version', '-f', '{{.Server.Version}}']).stdout.trim(), stop: async () => undefined };
  }
  if (!fs.existsSync('/usr/sbin/dockerd') || process.getuid?.() !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-dockerd-'));
  const host = `unix://${dir}/docker.sock`;
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
  const child: ChildProcess = spawn(
    '/usr/sbin/dockerd',
    ['--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'dockerd.pid'), '-H', host,
      '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--userland-proxy=false', '--cgroup-parent', CGROUP_PARENT,
      '--storage-driver', 'overlay2', '--log-level', 'warn'],
    { stdio: ['ignore', log, log], env: { ...process.env, XDG_RUNTIME_DIR: path.join(dir, 'xdg') } },
  );
  const docker = client(host);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 20000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    // Anything dockerd left mounted below its directories goes before the directory.
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(dir)).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
    removeCgroups();
  };
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) break;
    if (docker(['info']).code === 0) return { docker, version: docker(['version', '-f', '{{.Server.Version}}']).stdout.trim(), stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`dockerd did not start: ${fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
  await stop();
  return undefined;
}

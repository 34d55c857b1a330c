// Shared by the benchmarks: a private store with busybox imported, timing
// helpers, and a report line that always names the anchor it compares to.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine, storePaths } from '../kernel/engine';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const cliPath = path.join(repoRoot, 'dist', 'kernel', 'cli', 'main.js');

export interface BenchStore {
  env: NodeJS.ProcessEnv;
  engine: Engine;
  rootfs: string; // the unpacked busybox layer, for the unshare and runc anchors
  busyboxTar: string; // the root filesystem tarball the store's busybox came from
  cleanup(): Promise<void>;
}

export async function benchStore(): Promise<BenchStore> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const cgroupParent = `berth-bench/${path.basename(root)}`;
  const env = { ...process.env, BERTH_ROOT: root, BERTH_CGROUP_PARENT: cgroupParent };
  const busyboxTar = path.join(repoRoot, 'build', 'busybox-rootfs.tar');
  const r = spawnSync(process.execPath, [cliPath, 'import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  const engine = new Engine(storePaths(env));
  const img = engine.images.resolve('busybox');
  const rootfs = engine.images.store.snapshots.snapshotDir(img.chainIds[0]);
  return {
    env,
    engine,
    rootfs,
    busyboxTar,
    async cleanup() {
      for (const id of engine.containers.listIds()) await engine.containers.remove(id, true).catch(() => undefined);
      engine.removeCgroupParent();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export function stats(samples: number[]): { mean: number; median: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, median: s[Math.floor(s.length / 2)], min: s[0] };
}

export async function time(n: number, warmup: number, fn: () => unknown): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

// `runc run` of /bin/true on rootfs (read-only), timed n times; edit
// changes runc's default spec first. Undefined where runc is not installed.
export async function timeRunc(n: number, rootfs: string, edit: (spec: { linux: { devices?: unknown[]; resources: { devices: unknown[] } } }) => void = () => undefined): Promise<number[] | undefined> {
  if (!commandWorks('runc', ['--version'])) return undefined;
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-runc-'));
  try {
    spawnSync('runc', ['spec'], { cwd: bundle });
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    spec.root = { path: rootfs, readonly: true };
    spec.process.terminal = false;
    spec.process.args = ['/bin/true'];
    edit(spec);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    let i = 0;
    return await time(n, 3, () => spawnSync('runc', ['run', '--bundle', bundle, `berth-bench-${process.pid}-${i++}`], { stdio: 'ignore' }));
  } finally {
    fs.rmSync(bundle, { recursive: true, force: true });
  }
}

export function commandWorks(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10000 });
  return r.status === 0;
}

export function row(label: string, ms: number[] | undefined, note = ''): string {
  if (!ms) return `${label.padEnd(44)} ${'n/a'.padStart(9)}   ${note}`;
  const s = stats(ms);
  return `${label.padEnd(44)} ${s.mean.toFixed(2).padStart(9)} ${s.median.toFixed(2).padStart(9)} ${s.min.toFixed(2).padStart(9)}   ${note}`;
}

// Runs this benchmark file again inside a network namespace made for it
// (only loopback up there), calling inner() in that copy; the namespace is
// deleted afterwards. Network benchmarks never touch the machine's interfaces.
export function inOwnNetns(file: string, inner: () => Promise<void>): void {
  if (process.argv.includes('--inner')) {
    spawnSync('ip', ['link', 'set', 'lo', 'up']);
    inner().catch((e) => {
      console.error(e);
      process.exit(1);
    });
    return;
  }
  const ns = `berth-bench-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) throw new Error('cannot create a network namespace for the benchmark (ip netns add)');
  try {
    // nsenter keeps /sys (ip netns exec remounts it and hides the cgroups, and Berth refuses to run unaccounted).
    const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, file, '--inner'], { stdio: 'inherit', env: process.env });
    if (r.status !== 0) process.exitCode = 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

// Debian's docker-registry on 127.0.0.1:PORT with its data under dir, up
// and answering when this returns; kill() the child when done.
export async function startBenchRegistry(dir: string, port: number): Promise<import('child_process').ChildProcess> {
  fs.writeFileSync(path.join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const reg = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return reg;
}

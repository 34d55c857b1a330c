// A private Berth store per test file: its own root, its own cgroup parent,
// the busybox image imported from the tarball the set-up made. cleanup()
// removes every container, cgroup and file the file's tests created.
import { spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine, storePaths } from '../kernel/engine';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const cliPath = path.join(repoRoot, 'dist', 'kernel', 'cli', 'main.js');
export const busyboxTar = path.join(repoRoot, 'build', 'busybox-rootfs.tar');
export const TEST_CGROUP_ROOT = 'berth-test';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestStore {
  root: string;
  env: NodeJS.ProcessEnv;
  engine: Engine;
  berth(args: string[], opts?: { input?: string; timeoutMs?: number }): Result;
  berthAsync(args: string[], opts?: { input?: string }): Promise<Result>;
  cleanup(): Promise<void>;
}

export async function testStore(name: string, opts: { empty?: boolean } = {}): Promise<TestStore> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `berth-test-${name}-`));
  const cgroupParent = `${TEST_CGROUP_ROOT}/${path.basename(root)}`;
  // No test may add a bridge to the machine's own network namespace. The
  // runner (scripts/run-tests.js) runs the suite in a namespace of its own and
  // names the machine's; run directly, a test's own namespace is protected.
  const machineNetns = process.env.BERTH_MACHINE_NETNS || fs.readlinkSync('/proc/self/ns/net');
  // Rootless (a test file run through berth-shim enter by a user), the store
  // finds its own cgroup parent: the user's delegated subtree, or none.
  // Contexts (the user's config) stay in the store too, never in the machine user's ~/.config.
  const env: NodeJS.ProcessEnv = { ...process.env, BERTH_ROOT: root, BERTH_RUN: path.join(root, 'run'), BERTH_CONFIG: process.env.BERTH_CONFIG ?? path.join(root, 'config'), BERTH_NO_BRIDGES_IN_NETNS: machineNetns, BERTH_OFFLINE: '1' };
  if (!process.env.BERTH_ROOTLESS) env.BERTH_CGROUP_PARENT = cgroupParent;
  const engine = new Engine(storePaths(env));
  const berth = (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Result => {
    const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [cliPath, ...args], {
      env,
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const berthAsync = (args: string[], opts: { input?: string } = {}): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cliPath, ...args], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end(opts.input ?? '');
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  if (!opts.empty) {
    const imported = berth(['import', '-c', 'CMD ["sh"]', busyboxTar, 'busybox']);
    if (imported.code !== 0) throw new Error(`cannot import busybox: ${imported.stderr}`);
  }
  const cleanup = async () => {
    for (const id of engine.containers.listIds()) {
      try {
        await engine.containers.remove(id, true);
      } catch {
        /* removed by its own --rm meanwhile */
      }
    }
    engine.removeCgroupParent();
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { root, env, engine, berth, berthAsync, cleanup };
}

// A build context under the store's root: ctx/NAME with the files given
// (made afresh each call).
export function buildContext(s: TestStore, name: string, files: Record<string, string>): string {
  const dir = path.join(s.root, 'ctx', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), body);
  }
  return dir;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls until fn returns true or the deadline passes.
export async function eventually(fn: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (fn()) return true;
    await sleep(25);
  }
  return fn();
}

// test/fixtures/probe.c, compiled static into dir (bind it into containers).
export function compileProbe(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const out = path.join(dir, 'probe');
  const r = spawnSync('gcc', ['-static', '-O2', '-o', out, path.join(repoRoot, 'test', 'fixtures', 'probe.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot compile the probe: ${r.stderr}`);
  return out;
}

// Major and minor of a dev_t as Node reports it, as /proc/self/mountinfo writes them.
export function majorMinor(dev: number): string {
  return `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00)}`;
}

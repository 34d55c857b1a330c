// CLI start-to-exit time for the everyday commands (exec, ps, images, run,
// logs, inspect): berth against `node -e 0` (the floor any Node CLI pays)
// and against docker and podman when they are installed and answer, all in
// this one run, interleaved so that the machine's drift hits each alike.
// Ratios are what to read; absolute times drift 2-3x from hour to hour here.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchStore, cliPath, commandWorks, stats } from './common';

const N = Number(process.env.BENCH_N || 30);

type Tool = 'berth' | 'docker' | 'podman';
const COMMANDS: Array<{ name: string; argv: (c: string) => string[] }> = [
  { name: 'exec c true', argv: (c) => ['exec', c, 'true'] },
  { name: 'ps', argv: () => ['ps'] },
  { name: 'images', argv: () => ['images'] },
  { name: 'logs c', argv: (c) => ['logs', c] },
  { name: 'inspect c', argv: (c) => ['inspect', c] },
  { name: 'run --rm --network none busybox true', argv: () => ['run', '--rm', '--network', 'none', 'busybox', 'true'] },
];

interface Other {
  prefix: string[]; // global flags (podman on a hybrid cgroup host: --runtime runc)
  env: NodeJS.ProcessEnv;
  container: string;
}

// A short pause before each call, so that what one tool leaves running
// (podman's conmon after an exec) does not land in the next one's time.
function settle(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40);
}

function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  settle();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// docker or podman with a busybox image and a container of its own to exec
// into. podman's default rlimits exceed this machine's hard limits, and its
// default runtime (crun) refuses hybrid cgroups; a containers.conf of the
// benchmark's own and runc answer both, without touching /etc.
function prepareOther(tool: 'docker' | 'podman', tar: string, confDir: string): Other | undefined {
  const env = { ...process.env };
  if (tool === 'podman') {
    const conf = path.join(confDir, 'containers.conf');
    fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n');
    env.CONTAINERS_CONF = conf;
  }
  const works = (args: string[]) => spawnSync(tool, args, { env, stdio: 'ignore', timeout: 60000 }).status === 0;
  if (!commandWorks(tool, ['--version']) || !works(['info'])) return undefined;
  if (!works(['image', 'inspect', 'busybox'])) works(['import', tar, 'busybox']);
  const name = `berth-bench-${tool}-${process.pid}`;
  for (const prefix of tool === 'podman' ? [[], ['--runtime', 'runc']] : [[]]) {
    if (works([...prefix, 'run', '-d', '--network', 'none', '--name', name, 'busybox', 'sleep', '3600'])) return { prefix, env, container: name };
    works(['rm', '-f', name]);
  }
  return undefined;
}

async function main(): Promise<void> {
  const store = await benchStore();
  const berth = (args: string[]) => timed(process.execPath, [cliPath, ...args], store.env);
  const container = spawnSync(process.execPath, [cliPath, 'run', '-d', '--network', 'none', 'busybox', 'sleep', '3600'], { env: store.env, encoding: 'utf8' }).stdout.trim();
  const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-conf-'));
  const others = new Map<Tool, Other>();
  for (const tool of ['docker', 'podman'] as const) {
    const o = prepareOther(tool, store.busyboxTar, confDir);
    if (o) others.set(tool, o);
  }
  const samples = new Map<string, number[]>();
  const add = (k: string, ms: number) => samples.set(k, [...(samples.get(k) ?? []), ms]);
  try {
    // A first call fills Berth's code cache, as any user's first call does.
    berth(['ps']);
    for (let i = 0; i < N + 2; i++) {
      const keep = i >= 2; // two warm-up rounds
      const node = timed(process.execPath, ['-e', '0']);
      if (keep) add('node', node);
      for (const cmd of COMMANDS) {
        const b = berth(cmd.argv(container));
        if (keep) add(`berth ${cmd.name}`, b);
        for (const [tool, o] of others) {
          const t = timed(tool, [...o.prefix, ...cmd.argv(o.container)], o.env);
          if (keep) add(`${tool} ${cmd.name}`, t);
        }
      }
    }
  } finally {
    spawnSync(process.execPath, [cliPath, 'rm', '-f', container], { env: store.env, stdio: 'ignore' });
    for (const [tool, o] of others) spawnSync(tool, ['rm', '-f', o.container], { env: o.env, stdio: 'ignore' });
    fs.rmSync(confDir, { recursive: true, force: true });
    await store.cleanup();
  }
  const med = (k: string) => (samples.get(k) ? stats(samples.get(k)!).median : NaN);
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1).padStart(8) : '     n/a');
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : 'n/a');
  console.log(`CLI start to exit, median of ${N} interleaved runs (${os.cpus().length} cores, ms); node -e 0: ${med('node').toFixed(1)} ms`);
  console.log(`${'command'.padEnd(40)}${'berth'.padStart(8)}${'docker'.padStart(8)}${'podman'.padStart(8)}   berth/node  berth/docker  berth/podman`);
  for (const cmd of COMMANDS) {
    const b = med(`berth ${cmd.name}`);
    const d = med(`docker ${cmd.name}`);
    const p = med(`podman ${cmd.name}`);
    console.log(`${cmd.name.padEnd(40)}${fmt(b)}${fmt(d)}${fmt(p)}   ${ratio(b, med('node')).padStart(10)}  ${ratio(b, d).padStart(12)}  ${ratio(b, p).padStart(12)}`);
  }
  if (!others.size) console.log('docker and podman: not installed or no engine answers here; only the node floor is compared');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// `run --rm busybox true` rootless beside root, with no network and with
// the default network, and rootless podman (as the same user, with runc)
// when it is installed and answers: all in this one run, interleaved, in a
// network namespace of the benchmark's own (root's default network makes a
// bridge). As root it makes a user with a subordinate range and removes it
// again; the user's side is timed by a worker running as that user, so no
// runuser start lands in a figure. Ratios are what to read.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { benchStore, repoRoot, stats } from './common';

const N = Number(process.env.BENCH_N || 20);
const bin = path.join(repoRoot, 'bin', 'berth');
const podmanConf = '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n';

function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40); // let the last one's leftovers settle
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const USER_CASES: Record<string, [string, string[]]> = {
  'rootless none': [bin, ['run', '--rm', '--network', 'none', 'busybox', 'true']],
  'rootless default': [bin, ['run', '--rm', 'busybox', 'true']],
  'podman rootless none': ['podman', ['--runtime', 'runc', 'run', '--rm', '--network', 'none', 'busybox', 'true']],
};

// The user's side: one line in (a case), one line out (milliseconds, or "-").
async function worker(): Promise<void> {
  const env = { ...process.env, CONTAINERS_CONF: path.join(process.env.HOME!, 'containers.conf') };
  fs.writeFileSync(env.CONTAINERS_CONF, podmanConf);
  const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { env, stdio: 'ignore', timeout: 60000 }).status === 0;
  ok(bin, ['import', path.join(repoRoot, 'build', 'busybox-rootfs.tar'), 'busybox']);
  const podman = ok('podman', ['--version']) && ok('podman', ['import', path.join(repoRoot, 'build', 'busybox-rootfs.tar'), 'busybox']) && ok(...USER_CASES['podman rootless none']);
  process.stdout.write(`ready ${podman ? 'podman' : ''}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const c = USER_CASES[line.trim()];
    process.stdout.write(`${c ? timed(c[0], c[1], env).toFixed(2) : '-'}\n`);
  }
  ok('podman', ['rmi', '-f', 'busybox']);
}

async function main(): Promise<void> {
  if (!process.env.BERTH_BENCH_NETNS) {
    const r = spawnSync('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, __filename], { stdio: 'inherit', env: { ...process.env, BERTH_BENCH_NETNS: '1' } });
    process.exit(r.status ?? 1);
  }
  const user = `berthbench${process.pid % 100000}`;
  let start = 300000;
  for (const f of ['/etc/subuid', '/etc/subgid'])
    for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
      const [, s, c] = l.split(':');
      if (s && c) start = Math.max(start, Number(s) + Number(c));
    }
  spawnSync('useradd', ['-m', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', user], { stdio: 'inherit' });
  spawnSync('usermod', ['--add-subuids', `${start}-${start + 65535}`, '--add-subgids', `${start}-${start + 65535}`, user], { stdio: 'inherit' });
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout);
  const xdg = `/tmp/berth-bench-xdg-${uid}`;
  fs.mkdirSync(xdg, { mode: 0o700 });
  fs.chownSync(xdg, uid, uid);
  const store = await benchStore();
  const w = spawn('runuser', ['-u', user, '--', 'env', '-i', `PATH=${process.env.PATH}`, `HOME=/home/${user}`, `USER=${user}`, `XDG_RUNTIME_DIR=${xdg}`, process.execPath, __filename, '--worker'], { stdio: ['pipe', 'pipe', 'inherit'], cwd: '/' });
  const lines = readline.createInterface({ input: w.stdout! })[Symbol.asyncIterator]();
  const ask = async (c: string) => {
    w.stdin!.write(`${c}\n`);
    return String((await lines.next()).value);
  };
  try {
    const ready = String((await lines.next()).value);
    const cases = ['root none', 'root default', 'rootless none', 'rootless default', ...(ready.includes('podman') ? ['podman rootless none'] : [])];
    const samples = new Map<string, number[]>(cases.map((c) => [c, []]));
    const root = (args: string[]) => timed(bin, args, store.env);
    for (let i = 0; i < N + 2; i++) {
      for (const c of cases) {
        const ms = c === 'root none' ? root(USER_CASES['rootless none'][1]) : c === 'root default' ? root(USER_CASES['rootless default'][1]) : Number(await ask(c));
        if (i >= 2) samples.get(c)!.push(ms); // two warm-up rounds fill the code caches
      }
    }
    const med = (c: string) => stats(samples.get(c)!).median;
    console.log(`rootless run --rm busybox true, ${N} interleaved rounds, median ms (bin/berth for both modes)`);
    for (const c of cases) console.log(`  ${c.padEnd(22)} ${med(c).toFixed(1)}`);
    console.log(`  rootless / root, --network none: ${(med('rootless none') / med('root none')).toFixed(2)}x (goal: within 1.5x)`);
    console.log(`  rootless / root, default network: ${(med('rootless default') / med('root default')).toFixed(2)}x (goal: within 1.5x)`);
    if (samples.has('podman rootless none')) console.log(`  rootless podman / rootless berth, --network none: ${(med('podman rootless none') / med('rootless none')).toFixed(1)}x faster (goal: 10x)`);
    else console.log('  rootless podman: not installed or does not run here; no anchor in this run');
    console.log('  rootless podman with its default network needs /dev/net/tun for pasta/slirp4netns; where it is closed to users (as on this machine) there is no such row');
  } finally {
    w.stdin!.end();
    await new Promise((r) => w.on('exit', r));
    await store.cleanup();
    // The user's processes (its namespace process lingers a minute): this benchmark made the user.
    for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const u = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))![1]);
        if (u === uid || (u >= start && u < start + 65536)) process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('userdel', ['-r', '-f', user], { stdio: 'ignore' });
    fs.rmSync(`/home/${user}`, { recursive: true, force: true });
    fs.rmSync(xdg, { recursive: true, force: true });
  }
}

(process.argv.includes('--worker') ? worker() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});

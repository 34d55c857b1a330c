// Container start-and-exit time: `run --rm --network none busybox true`
// through Berth's engine (as the kernel calls it) and through its CLI,
// against the bare floor (unshare + chroot), runc on the same rootfs, and
// docker when an engine is running, all measured in this one run.
import { spawnSync } from 'child_process';
import * as os from 'os';
import { DETACHED } from '../kernel/engine';
import { benchStore, cliPath, commandWorks, row, stats, time, timeRunc } from './common';

const N = Number(process.env.BENCH_N || 50);

async function main(): Promise<void> {
  const store = await benchStore();
  const results: Record<string, number[] | undefined> = {};
  try {
    results.floor = await time(N, 5, () =>
      spawnSync('unshare', ['--pid', '--fork', '--mount', '--uts', '--ipc', '--net', `--root=${store.rootfs}`, '/bin/true'], { stdio: 'ignore' }),
    );
    results.engine = await time(N, 5, async () => {
      const h = await store.engine.containers.run(
        { image: 'busybox', command: ['true'], env: [], tty: false, openStdin: false, host: { AutoRemove: true, NetworkMode: 'none' } },
        { ...DETACHED },
      );
      await h.exited;
    });
    results.cli = await time(Math.min(N, 30), 3, () =>
      spawnSync(process.execPath, [cliPath, 'run', '--rm', '--network', 'none', 'busybox', 'true'], { env: store.env, stdio: 'ignore' }),
    );
    results.node = await time(Math.min(N, 30), 3, () => spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' }));
    results.runc = await timeRunc(N, store.rootfs);
    if (commandWorks('docker', ['info']) && commandWorks('docker', ['image', 'inspect', 'busybox'])) {
      results.docker = await time(Math.min(N, 20), 2, () => spawnSync('docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], { stdio: 'ignore' }));
    }
  } finally {
    await store.cleanup();
  }
  const mean = (k: string) => (results[k] ? stats(results[k]!).mean : NaN);
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(1)}x` : 'n/a');
  console.log(`run --rm --network none busybox true   (${N} runs, ${os.cpus().length} cores, ms)`);
  console.log(`${''.padEnd(44)} ${'mean'.padStart(9)} ${'median'.padStart(9)} ${'min'.padStart(9)}`);
  console.log(row('floor: unshare --pid --fork ... --root /bin/true', results.floor));
  console.log(row('berth engine (in a running Node process)', results.engine, `${ratio(mean('engine'), mean('floor'))} the floor (target <= 4x, <= 10 ms)`));
  console.log(row('berth CLI (node dist/kernel/cli/main.js run ...)', results.cli, `node -e 0 alone: ${mean('node').toFixed(1)} ms`));
  console.log(row('runc run (same rootfs, read-only)', results.runc, results.runc ? `berth engine is ${ratio(mean('runc'), mean('engine'))} faster` : 'runc not installed'));
  console.log(row('docker run --rm --network none busybox true', results.docker, results.docker
    ? `berth engine ${ratio(mean('docker'), mean('engine'))} faster (target >= 30x), CLI ${ratio(mean('docker'), mean('cli'))} (target >= 2x)`
    : 'no docker engine running here; the issue measured 313 ms'));
  if (!results.docker) {
    console.log(`against the issue's docker figure (313 ms): engine ${ratio(313, mean('engine'))} faster, CLI ${ratio(313, mean('cli'))} faster`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// Runs bench/kernel_bench.py (jupyter_client, Debian's python3) against a
// private store and a private kernelspec.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { BenchStore, benchStore, cliPath, repoRoot, stats, time } from './common';

// The engine alone, attached through pipes as the kernel attaches, so the
// cell's own cost can be read off against it.
async function engineRun(store: BenchStore): Promise<number> {
  return stats(await time(Number(process.env.BENCH_N || 20), 3, async () => {
    const h = await store.engine.containers.run(
      { image: 'busybox', command: ['true'], env: [], tty: false, openStdin: false, host: { AutoRemove: true, NetworkMode: 'none' } },
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    h.stdout?.resume();
    h.stderr?.resume();
    await h.exited;
  })).median;
}

async function main(): Promise<void> {
  const store = await benchStore();
  try {
    const prefix = path.join(String(store.env.BERTH_ROOT), 'jupyter');
    spawnSync(process.execPath, [cliPath, 'install', '--prefix', prefix], { env: store.env, stdio: 'inherit' });
    const r = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'bench', 'kernel_bench.py'), process.env.BENCH_N || '20'], {
      env: { ...store.env, BERTH_ENGINE_RUN_MS: String(await engineRun(store)), JUPYTER_PATH: path.join(prefix, 'share', 'jupyter'), BERTH_HISTORY: path.join(String(store.env.BERTH_ROOT), 'history.jsonl'), PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exitCode = 1;
  } finally {
    await store.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// Supervisor memory: 50 detached `sleep` containers, the RSS (and PSS, which
// splits shared pages fairly) of each berth-shim, read from /proc.
import * as fs from 'fs';
import { DETACHED } from '../kernel/engine';
import { benchStore } from './common';

const COUNT = Number(process.env.BENCH_CONTAINERS || 50);

function kib(file: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  const store = await benchStore();
  try {
    for (let i = 0; i < COUNT; i++) {
      await store.engine.containers.run(
        { image: 'busybox', command: ['sleep', '300'], env: [], tty: false, openStdin: false, host: { NetworkMode: 'none' } },
        { ...DETACHED },
      ).then((h) => h.detach());
    }
    await new Promise((r) => setTimeout(r, 500));
    const shims = store.engine.containers.list(false).map((c) => c.shim!.ShimPid);
    const rss = shims.map((p) => kib(`/proc/${p}/status`, 'VmRSS'));
    const pss = shims.map((p) => kib(`/proc/${p}/smaps_rollup`, 'Pss'));
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(`berth-shim memory with ${shims.length} detached sleep containers`);
    console.log(`  RSS per shim: mean ${(mean(rss) / 1024).toFixed(2)} MiB, max ${(Math.max(...rss) / 1024).toFixed(2)} MiB (target <= 1 MiB)`);
    console.log(`  PSS per shim: mean ${(mean(pss) / 1024).toFixed(2)} MiB`);
    console.log(`  containerd-shim, measured by the issue: 13 MiB RSS -> berth-shim uses ${(13 * 1024 / mean(rss)).toFixed(0)}x less`);
  } finally {
    await store.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// What durability costs: the same pull (debian:bookworm, 170 MB, from
// docker-registry on 127.0.0.1) and the same uncached build (five RUN
// steps, each writing files) with the store's fsyncs on (the default: file
// and directory fsync around each published record, syncfs before the
// image index names an image) and off (BERTH_NO_FSYNC=1), alternated in
// one run so the machine's drift hits both alike. The anchor is Berth
// without fsync.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine, storePaths } from '../kernel/engine';
import { inOwnNetns, repoRoot, row, startBenchRegistry, stats } from './common';

const RUNS = Number(process.env.BERTH_BENCH_RUNS ?? 3);

async function inner(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-fsync-'));
  const reg = await startBenchRegistry(work, 5057);
  let n = 0;
  const engineAt = (name: string) => new Engine(storePaths({ ...process.env, BERTH_ROOT: path.join(work, name), BERTH_CGROUP_PARENT: `berth-bench/${name}-${process.pid}` }));
  const drop = (name: string, e: Engine) => {
    fs.rmSync(path.join(work, name), { recursive: true, force: true });
    e.removeCgroupParent();
  };
  const ctx = path.join(work, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), ['FROM busybox', ...Array.from({ length: 5 }, (_, i) => `RUN mkdir -p /s${i} && for j in $(seq 300); do echo ${i}-$j > /s${i}/f$j; done`)].join('\n') + '\n');
  const src = engineAt('source');
  try {
    await src.builds.build({ context: path.join(repoRoot, 'images', 'debian'), tags: ['127.0.0.1:5057/library/debian:bookworm'], noCache: false, buildArgs: {} }, () => undefined);
    await src.registry.push('127.0.0.1:5057/library/debian:bookworm', {});
    await src.builds.build({ context: path.join(repoRoot, 'images', 'busybox'), tags: ['127.0.0.1:5057/library/busybox:latest'], noCache: false, buildArgs: {} }, () => undefined);
    await src.registry.push('127.0.0.1:5057/library/busybox:latest', {});
    const pull = { on: [] as number[], off: [] as number[] };
    const build = { on: [] as number[], off: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      // Which goes first alternates too: the second of a pair meets the first's writeback.
      for (const mode of i % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        if (mode === 'off') process.env.BERTH_NO_FSYNC = '1';
        else delete process.env.BERTH_NO_FSYNC;
        const name = `dest${n++}`;
        const dst = engineAt(name);
        // Each timed part starts with nothing dirty: otherwise the runs
        // without fsync pay for the writeback left by the step before.
        spawnSync('sync');
        let t0 = process.hrtime.bigint();
        await dst.registry.pull({ ref: '127.0.0.1:5057/library/debian:bookworm' });
        pull[mode].push(Number(process.hrtime.bigint() - t0) / 1e6);
        await dst.registry.pull({ ref: '127.0.0.1:5057/library/busybox:latest' });
        dst.images.tag('127.0.0.1:5057/library/busybox:latest', 'busybox');
        spawnSync('sync');
        t0 = process.hrtime.bigint();
        await dst.builds.build({ context: ctx, tags: ['fsync-bench'], noCache: true, buildArgs: {}, network: 'none' }, () => undefined);
        build[mode].push(Number(process.hrtime.bigint() - t0) / 1e6);
        drop(name, dst);
      }
    }
    delete process.env.BERTH_NO_FSYNC;
    const ratio = (a: number[], b: number[]) => `${(stats(a).mean / stats(b).mean).toFixed(2)}x without fsync`;
    console.log(`durability: the store's fsyncs on (default) and off (BERTH_NO_FSYNC=1), alternated, ${RUNS} runs each, ms`);
    console.log(`${''.padEnd(44)} ${'mean'.padStart(9)} ${'median'.padStart(9)} ${'min'.padStart(9)}`);
    console.log(row('pull debian:bookworm, fsync on', pull.on, ratio(pull.on, pull.off)));
    console.log(row('pull debian:bookworm, fsync off (anchor)', pull.off));
    console.log(row('build, 5 RUN steps, --no-cache, fsync on', build.on, ratio(build.on, build.off)));
    console.log(row('build, 5 RUN steps, --no-cache, fsync off (anchor)', build.off));
  } finally {
    reg.kill();
    src.removeCgroupParent();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

inOwnNetns(__filename, inner);

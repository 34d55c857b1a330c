// Builds and unpacking: a 6-step Dockerfile (FROM, RUN, COPY, WORKDIR, ENV,
// CMD) fully cached and with --no-cache, through the engine (as the kernel
// builds) and the CLI; docker build when an engine runs; and unpacking the
// debian:bookworm rootfs layer against GNU tar on the same file.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { unpackLayer } from '../kernel/engine/images/unpack';
import { benchStore, cliPath, inOwnNetns, repoRoot, row, stats, time } from './common';
import { startDocker } from './dockerd';

const N = Number(process.env.BENCH_N || 20);

async function main(): Promise<void> {
  const store = await benchStore();
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-ctx-'));
  const results: Record<string, number[] | undefined> = {};
  try {
    fs.writeFileSync(path.join(ctx, 'index.js'), 'console.log("hello")\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN mkdir -p /app && echo deps > /app/deps.txt\nCOPY index.js /app/\nWORKDIR /app\nENV NODE_ENV=production\nCMD ["cat", "index.js"]\n');
    const req = (noCache: boolean) => ({ context: ctx, tags: ['bench:latest'], noCache, buildArgs: {} });
    await store.engine.builds.build(req(false), () => undefined);
    results.cached = await time(N, 3, () => store.engine.builds.build(req(false), () => undefined));
    results.nocache = await time(N, 2, () => store.engine.builds.build(req(true), () => undefined));
    results.cliCached = await time(Math.min(N, 10), 2, () => spawnSync(process.execPath, [cliPath, 'build', '-q', '-t', 'bench', ctx], { env: store.env, stdio: 'ignore' }));
    // BuildKit on a private docker engine (bench/dockerd.ts), same busybox,
    // RUN without a network on both sides.
    const docker = await startDocker();
    if (docker) {
      try {
        const saved = spawnSync(process.execPath, [cliPath, 'save', 'busybox'], { env: store.env, maxBuffer: 1 << 30 });
        docker.docker(['load'], { input: saved.stdout });
        const d = (...flags: string[]) => docker.docker(['build', '-q', '--network', 'none', ...flags, '-t', 'berth-bench', ctx]);
        d();
        results.docker = await time(Math.min(N, 10), 2, () => d());
        results.dockerNoCache = await time(Math.min(N, 10), 1, () => d('--no-cache'));
        results.noneNoCache = await time(N, 2, () => store.engine.builds.build({ ...req(true), network: 'none' }, () => undefined));
      } finally {
        await docker.stop();
      }
    }
    const rootfs = path.join(repoRoot, 'images', 'debian', 'rootfs.tar');
    if (fs.existsSync(rootfs)) {
      const mb = fs.statSync(rootfs).size / 1e6;
      const target = () => fs.mkdtempSync(path.join(store.engine.paths.tmp, 'unpack-'));
      fs.mkdirSync(store.engine.paths.tmp, { recursive: true });
      // Only the extraction is timed; each run gets a fresh directory and the
      // two extractors alternate so neither profits from the other's cache.
      results.unpack = [];
      results.gnutar = [];
      for (let i = 0; i < 4; i++) {
        for (const which of ['unpack', 'gnutar'] as const) {
          const d = target();
          const t0 = process.hrtime.bigint();
          if (which === 'unpack') await unpackLayer(rootfs, d);
          else spawnSync('tar', ['-xf', rootfs, '-C', d]);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (i > 0) results[which]!.push(ms); // the first round warms the page cache
          fs.rmSync(d, { recursive: true, force: true });
        }
      }
      console.log(`unpacking the debian:bookworm layer (${mb.toFixed(0)} MB), 3 runs each, alternating, ms`);
      console.log(row('berth unpack (native, safe)', results.unpack, `${(mb / (stats(results.unpack!).mean / 1000)).toFixed(0)} MB/s`));
      console.log(row('GNU tar -xf', results.gnutar, `${(mb / (stats(results.gnutar!).mean / 1000)).toFixed(0)} MB/s; berth/GNU tar time ${(stats(results.unpack!).mean / stats(results.gnutar!).mean).toFixed(2)}x`));
    } else {
      console.log('images/debian/rootfs.tar is missing: run npm run setup for the unpack comparison');
    }
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
    await store.cleanup();
  }
  console.log(`6-step Dockerfile (FROM, RUN, COPY, WORKDIR, ENV, CMD), ${N} runs, ms`);
  console.log(row('berth engine, all cached', results.cached, 'target <= 15 ms (docker: 101 ms legacy, 109 ms BuildKit, issue figures)'));
  console.log(row('berth engine, --no-cache', results.nocache, 'target <= 120 ms (BuildKit: 331 ms, issue figure)'));
  console.log(row('berth CLI, all cached (node start included)', results.cliCached));
  console.log(row('docker build (BuildKit), all cached', results.docker, results.docker ? `BuildKit/berth engine ${(stats(results.docker).mean / stats(results.cached!).mean).toFixed(1)}x, /berth CLI ${(stats(results.docker).mean / stats(results.cliCached!).mean).toFixed(2)}x` : 'no docker engine here (install docker.io)'));
  console.log(row('berth engine, --no-cache, RUN network none', results.noneNoCache));
  console.log(row('docker build (BuildKit) --no-cache', results.dockerNoCache, results.dockerNoCache && results.noneNoCache ? `BuildKit/berth engine ${(stats(results.dockerNoCache).mean / stats(results.noneNoCache).mean).toFixed(1)}x` : ''));
}

// RUN steps get the default bridge: the benchmark makes its own namespace for it.
inOwnNetns(__filename, main);

// A realistic build beside the 6-step one: a Python-style app in two
// stages. The deps stage writes 2,000 files in one RUN (a pip install's
// shape); the app stage copies them with COPY --from and adds an app of
// 300 source files and data. Timed uncached (--no-cache) and fully cached,
// through the CLI, against docker build (BuildKit) in the same run. Both
// sides build with --network none: the private docker engine has no bridge
// (it must not add one here), so that is the only fair comparison; Berth on
// its default bridge is timed too. Runs in a network namespace of its own.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { benchStore, cliPath, inOwnNetns, row, stats, time } from './common';
import { startDocker } from './dockerd';

const N = Number(process.env.BENCH_N || 8);

const DOCKERFILE = `FROM busybox AS deps
WORKDIR /deps
COPY requirements.txt .
RUN mkdir -p site-packages && i=0 && while [ $i -lt 2000 ]; do echo "VALUE = $i" > site-packages/mod_$i.py; i=$((i+1)); done
FROM busybox AS app
WORKDIR /app
COPY --from=deps /deps/site-packages /usr/lib/python3/site-packages
COPY pyproject.toml requirements.txt ./
COPY src/ ./src/
COPY data/ ./data/
ENV PYTHONPATH=/usr/lib/python3/site-packages
RUN find /app -name '*.py' | wc -l > /app/count
CMD ["cat", "/app/count"]
`;

function makeContext(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-app-'));
  const w = (rel: string, body: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  };
  w('Dockerfile', DOCKERFILE);
  w('requirements.txt', 'numpy==2.1.3\npandas==2.2.3\nscikit-learn==1.5.2\n');
  w('pyproject.toml', '[project]\nname = "lab"\nversion = "0.1.0"\n');
  for (let p = 0; p < 10; p++) for (let m = 0; m < 30; m++) w(`src/lab/pkg${p}/mod${m}.py`, `def f${m}(x):\n    return x * ${m}\n`.repeat(20));
  for (let d = 0; d < 20; d++) w(`data/part-${d}.csv`, 'a,b,c\n'.repeat(2000));
  return dir;
}

async function main(): Promise<void> {
  const store = await benchStore();
  const ctx = makeContext();
  const results: Record<string, number[] | undefined> = {};
  const docker = await startDocker();
  try {
    const berth = (...args: string[]) => {
      const r = spawnSync(process.execPath, [cliPath, 'build', '-q', ...args, ctx], { env: store.env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`berth build failed: ${r.stderr}`);
    };
    berth('--network', 'none', '-t', 'app');
    // In a notebook the kernel builds in-process: the engine, no node start.
    const engine = (noCache: boolean) => store.engine.builds.build({ context: ctx, tags: ['app'], noCache, buildArgs: {}, network: 'none' }, () => undefined);
    results.engineNoCache = await time(N, 1, () => engine(true));
    results.engineCached = await time(N, 1, () => engine(false));
    results.berthNoCache = await time(N, 1, () => berth('--network', 'none', '--no-cache', '-t', 'app'));
    results.berthCached = await time(N, 1, () => berth('--network', 'none', '-t', 'app'));
    results.berthBridgeNoCache = await time(Math.max(2, N / 2), 1, () => berth('--no-cache', '-t', 'app'));
    if (docker) {
      // docker gets the same busybox, from Berth's store.
      const saved = spawnSync(process.execPath, [cliPath, 'save', 'busybox'], { env: store.env, maxBuffer: 1 << 30 });
      const loaded = docker.docker(['load'], { input: saved.stdout });
      if (loaded.code !== 0) throw new Error(`docker load failed: ${loaded.stderr}`);
      const d = (...args: string[]) => {
        const r = docker.docker(['build', '-q', '--network', 'none', ...args, ctx]);
        if (r.code !== 0) throw new Error(`docker build failed: ${r.stderr}`);
      };
      d('-t', 'app');
      results.dockerNoCache = await time(N, 1, () => d('--no-cache', '-t', 'app'));
      results.dockerCached = await time(N, 1, () => d('-t', 'app'));
    }
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
    await docker?.stop();
    await store.cleanup();
  }
  const ratio = (ours: string, theirs: string) => {
    const a = results[ours];
    const b = results[theirs];
    return a && b ? `BuildKit/berth ${(stats(b).mean / stats(a).mean).toFixed(2)}x (goal >= 3x)` : '';
  };
  console.log(`Python-style app: 2 stages, RUN writing 2,000 files, COPY --from, 300 source files + 20 data files; ${N} runs, ms (mean, median, min)`);
  console.log(`anchor: ${docker ? `docker build with BuildKit, engine ${docker.version}, in this run` : 'no docker engine here (install docker.io to measure the BuildKit anchor)'}`);
  console.log(row('berth build --no-cache (network none)', results.berthNoCache, ratio('berthNoCache', 'dockerNoCache')));
  console.log(row('docker build --no-cache (network none)', results.dockerNoCache));
  console.log(row('berth build, all cached', results.berthCached, ratio('berthCached', 'dockerCached')));
  console.log(row('docker build, all cached', results.dockerCached));
  console.log(row('berth engine (a %%build cell) --no-cache', results.engineNoCache, ratio('engineNoCache', 'dockerNoCache')));
  console.log(row('berth engine (a %%build cell), all cached', results.engineCached, ratio('engineCached', 'dockerCached')));
  console.log(row('berth build --no-cache (default bridge)', results.berthBridgeNoCache, results.dockerNoCache ? `BuildKit(none)/berth(bridge) ${(stats(results.dockerNoCache).mean / stats(results.berthBridgeNoCache!).mean).toFixed(2)}x` : ''));
}

inOwnNetns(__filename, main);

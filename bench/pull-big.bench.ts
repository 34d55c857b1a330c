// Pulling a big multi-layer image (about 1 GB unpacked: debian, python3 and
// three layers of generated files, half incompressible) from Debian's
// docker-registry on 127.0.0.1 into empty stores, beside what else pulls
// or unpacks the same layers in this one run:
// - skopeo copy to an OCI directory (download and verify only, no unpack);
// - docker pull, in a private engine (bench/dockerd.ts) where Debian's
//   docker.io is installed (scripts/bench-setup.sh), or the engine running;
// - podman pull, where podman is installed;
// - GNU tar extracting the same gzip layers (tar -xzf), and the same layers
//   already decompressed (tar -xf).
// Runs in a network namespace of its own.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine, storePaths } from '../kernel/engine';
import { inOwnNetns, repoRoot, row, stats } from './common';
import { DockerEngine, startDocker } from './dockerd';

const RUNS = Number(process.env.BENCH_N || 2);
const PORT = 5056;
const REF = `127.0.0.1:${PORT}/lab/big:v1`;

function generated(seed: number): string {
  // 250 files of 1 MiB: odd ones random, even ones repeated text.
  return [
    'RUN python3 - <<PY',
    'import os, random',
    `r = random.Random(${seed})`,
    `d = '/data/${seed}'`,
    'os.makedirs(d)',
    'for i in range(250):',
    `    data = r.randbytes(1 << 20) if i % 2 else (('layer ${seed} line %d ' % i) * 60000).encode()[:1 << 20]`,
    "    open(d + '/f%03d' % i, 'wb').write(data)",
    'PY',
  ].join('\n');
}

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function must(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${r.stderr || r.error}`);
}

async function inner(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-bigpull-'));
  fs.writeFileSync(path.join(work, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${work}/data\nhttp:\n  addr: 127.0.0.1:${PORT}\n`);
  const reg = require('child_process').spawn('docker-registry', ['serve', path.join(work, 'config.yml')], { stdio: 'ignore' });
  const engineAt = (name: string) => new Engine(storePaths({ ...process.env, BERTH_ROOT: path.join(work, name), BERTH_CGROUP_PARENT: `berth-bench/${name}-${process.pid}` }));
  const src = engineAt('source');
  let docker: DockerEngine | undefined;
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${PORT}/v2/`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const quiet = () => undefined;
    const build = (context: string, tag: string, dockerfile?: string) => src.builds.build({ context, tags: [tag], noCache: false, buildArgs: {}, network: 'none', ...(dockerfile ? { dockerfile } : {}) } as never, quiet);
    await build(path.join(repoRoot, 'images', 'debian'), 'debian:bookworm');
    await build(path.join(repoRoot, 'images', 'python3'), 'python3:bookworm');
    const ctx = path.join(work, 'big');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), ['FROM python3:bookworm', generated(1), generated(2), generated(3)].join('\n') + '\n');
    await build(ctx, REF);
    const image = src.images.resolve(REF);
    const unpacked = image.layers.reduce((n, l) => n + l.size, 0);
    await src.registry.push(REF, {});

    // The registry's own gzip blobs, in layer order, for GNU tar.
    const manifest = await (await fetch(`http://127.0.0.1:${PORT}/v2/lab/big/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).json() as { layers: Array<{ digest: string; size: number }> };
    const gz = manifest.layers.map((l) => path.join(work, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', l.digest.slice(7, 9), l.digest.slice(7), 'data'));
    const compressed = manifest.layers.reduce((n, l) => n + l.size, 0);
    const plainTars = image.layers.map((l) => src.images.store.blobPath(l.digest));

    const berth: number[] = [];
    const skopeo: number[] = [];
    const podman: number[] = [];
    const tarGz: number[] = [];
    const tarPlain: number[] = [];
    const dockerPull: number[] = [];
    const hasPodman = spawnSync('sh', ['-c', 'command -v podman']).status === 0;
    docker = await startDocker();
    for (let i = 0; i < RUNS; i++) {
      const dst = engineAt(`dest${i}`);
      const t0 = process.hrtime.bigint();
      await dst.registry.pull({ ref: REF });
      berth.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const r = await dst.containers.run({ image: REF, command: ['sh', '-c', 'ls /data/3 | wc -l'], env: [], tty: false, openStdin: false, host: { NetworkMode: 'none', AutoRemove: true } }, { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
      if ((await r.exited).exitCode !== 0) throw new Error('the pulled image does not run');
      dst.removeCgroupParent();
      fs.rmSync(path.join(work, `dest${i}`), { recursive: true, force: true });

      const oci = path.join(work, `oci${i}`);
      skopeo.push(timed(() => must('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${REF}`, `oci:${oci}:v1`])));
      fs.rmSync(oci, { recursive: true, force: true });

      if (docker) {
        const d = docker;
        dockerPull.push(timed(() => {
          const r = d.docker(['pull', '-q', REF]);
          if (r.code !== 0) throw new Error(`docker pull failed: ${r.stderr}`);
        }));
        d.docker(['rmi', REF]);
      }

      if (hasPodman) {
        const root = path.join(work, `podman${i}`);
        podman.push(timed(() => must('podman', ['--root', path.join(root, 'root'), '--runroot', path.join(root, 'run'), '--storage-driver', 'overlay', 'pull', '-q', '--tls-verify=false', REF])));
        spawnSync('podman', ['--root', path.join(root, 'root'), '--runroot', path.join(root, 'run'), '--storage-driver', 'overlay', 'system', 'reset', '-f'], { stdio: 'ignore' });
        fs.rmSync(root, { recursive: true, force: true });
      }

      for (const [list, files, flag] of [[tarGz, gz, '-xzf'], [tarPlain, plainTars, '-xf']] as const) {
        const d = fs.mkdtempSync(path.join(work, 'gnutar-'));
        list.push(timed(() => {
          for (const f of files) must('tar', [flag, f, '-C', d]);
        }));
        fs.rmSync(d, { recursive: true, force: true });
      }
    }
    const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
    const b = stats(berth).mean;
    console.log(`pulling a ${manifest.layers.length}-layer image (${mb(unpacked)} unpacked, ${mb(compressed)} gzip) from docker-registry on 127.0.0.1 into empty stores, ${RUNS} runs, ms`);
    console.log(row('berth pull (download, verify, gunzip, unpack)', berth));
    console.log(row('skopeo copy to an OCI dir (no unpack)', skopeo, `berth / skopeo: ${(b / stats(skopeo).mean).toFixed(2)}x`));
    console.log(row('podman pull', hasPodman ? podman : undefined, hasPodman ? `berth / podman: ${(b / stats(podman).mean).toFixed(2)}x` : 'podman is not installed here'));
    console.log(row(`docker pull${docker ? ` (engine ${docker.version})` : ''}`, docker ? dockerPull : undefined, docker ? `berth / docker: ${(b / stats(dockerPull).mean).toFixed(2)}x` : 'no docker engine here (install docker.io: scripts/bench-setup.sh)'));
    console.log(row('GNU tar -xzf of the same gzip layers', tarGz, `berth / GNU tar -xzf: ${(b / stats(tarGz).mean).toFixed(2)}x (goal <= 1.3x)`));
    console.log(row('GNU tar -xf of the same layers, decompressed', tarPlain, `berth / GNU tar -xf: ${(b / stats(tarPlain).mean).toFixed(2)}x`));
  } finally {
    await docker?.stop();
    src.removeCgroupParent();
    reg.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (fs.existsSync(path.join(repoRoot, 'images', 'debian', 'rootfs.tar')) && fs.existsSync(path.join(repoRoot, 'images', 'python3', 'debs'))) inOwnNetns(__filename, inner);
else console.log('images/debian/rootfs.tar or images/python3/debs is missing: run npm run setup first');

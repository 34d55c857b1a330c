// Pulling debian:bookworm (170 MB) from Debian's docker-registry on
// 127.0.0.1 into an empty store, unpacked and ready to run, beside docker
// pull in a private engine (bench/dockerd.ts) where docker.io is installed,
// and GNU tar's extraction of the same rootfs alone. Runs in a network
// namespace of its own.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine, storePaths } from '../kernel/engine';
import { inOwnNetns, repoRoot, row, startBenchRegistry, stats } from './common';
import { DockerEngine, startDocker } from './dockerd';

async function inner(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pull-'));
  const reg = await startBenchRegistry(work, 5055);
  const engineAt = (name: string) => new Engine(storePaths({ ...process.env, BERTH_ROOT: path.join(work, name), BERTH_CGROUP_PARENT: `berth-bench/${name}-${process.pid}` }));
  let docker: DockerEngine | undefined;
  try {
    const src = engineAt('source');
    await src.builds.build({ context: path.join(repoRoot, 'images', 'debian'), tags: ['127.0.0.1:5055/library/debian:bookworm'], noCache: false, buildArgs: {} }, () => undefined);
    await src.registry.push('127.0.0.1:5055/library/debian:bookworm', {});
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dst = engineAt(`dest${i}`);
      const t0 = process.hrtime.bigint();
      await dst.registry.pull({ ref: '127.0.0.1:5055/library/debian:bookworm' });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const r = await dst.containers.run({ image: '127.0.0.1:5055/library/debian:bookworm', command: ['cat', '/etc/debian_version'], env: [], tty: false, openStdin: false, host: { NetworkMode: 'none', AutoRemove: true } }, { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
      if ((await r.exited).exitCode !== 0) throw new Error('the pulled image does not run');
      fs.rmSync(path.join(work, `dest${i}`), { recursive: true, force: true });
      dst.removeCgroupParent();
    }
    docker = await startDocker();
    const dockerTimes: number[] = [];
    for (let i = 0; docker && i < 3; i++) {
      const t0 = process.hrtime.bigint();
      const r = docker.docker(['pull', '-q', '127.0.0.1:5055/library/debian:bookworm']);
      if (r.code !== 0) throw new Error(`docker pull failed: ${r.stderr}`);
      dockerTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      docker.docker(['rmi', '127.0.0.1:5055/library/debian:bookworm']);
    }
    const tarTimes: number[] = [];
    for (let i = 0; i < 2; i++) {
      const d = fs.mkdtempSync(path.join(work, 'gnutar-'));
      const t0 = process.hrtime.bigint();
      spawnSync('tar', ['-xf', path.join(repoRoot, 'images', 'debian', 'rootfs.tar'), '-C', d]);
      tarTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      fs.rmSync(d, { recursive: true, force: true });
    }
    console.log('pulling debian:bookworm (170 MB unpacked) from docker-registry on 127.0.0.1, 3 runs into empty stores, ms');
    console.log(row('berth pull (download, verify, gunzip, unpack)', times, `target <= 1200 ms`));
    console.log(row(`docker pull${docker ? ` (engine ${docker.version})` : ''}`, docker ? dockerTimes : undefined, docker ? `berth / docker: ${(stats(times).mean / stats(dockerTimes).mean).toFixed(2)}x` : 'no docker engine here (install docker.io: scripts/bench-setup.sh)'));
    console.log(row('GNU tar -xf of the same rootfs alone', tarTimes, `berth pull / GNU tar: ${(stats(times).mean / stats(tarTimes).mean).toFixed(2)}x`));
    src.removeCgroupParent();
  } finally {
    await docker?.stop();
    reg.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (fs.existsSync(path.join(repoRoot, 'images', 'debian', 'rootfs.tar'))) inOwnNetns(__filename, inner);
else console.log('images/debian/rootfs.tar is missing: run npm run setup first');

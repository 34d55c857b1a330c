// What devices cost a container start: `run --rm --network none busybox
// true` through the engine, plain (the device cgroup every root container
// gets), with `--device /dev/zero:/dev/z`, and with a CDI device read from a
// YAML spec (node, env, bind mount), against runc given the same node and
// cgroup rule in its config.json, all measured in this one run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DETACHED, DeviceMapping, DeviceRequest } from '../kernel/engine';
import { benchStore, row, stats, time, timeRunc } from './common';

const N = Number(process.env.BENCH_N || 40);

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-cdi-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'bench.yaml'), `cdiVersion: "0.6.0"
kind: bench.test/dev
devices:
  - name: zero
    containerEdits:
      env: [BENCH_DEVICE=zero]
      deviceNodes: [{path: /dev/z, hostPath: /dev/zero}]
      mounts: [{hostPath: ${path.join(dir, 'data')}, containerPath: /opt/data, options: [ro, bind]}]
`);
  process.env.BERTH_CDI_SPEC_DIRS = dir;
  const store = await benchStore();
  const results: Record<string, number[] | undefined> = {};
  const run = async (Devices: DeviceMapping[], DeviceRequests: DeviceRequest[]) => {
    const h = await store.engine.containers.run(
      { image: 'busybox', command: ['true'], env: [], tty: false, openStdin: false, host: { AutoRemove: true, NetworkMode: 'none', Devices, DeviceRequests } },
      { ...DETACHED },
    );
    await h.exited;
  };
  try {
    results.plain = await time(N, 5, () => run([], []));
    results.device = await time(N, 5, () => run([{ PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'rwm' }], []));
    results.cdi = await time(N, 5, () => run([], [{ Driver: 'cdi', Count: 0, DeviceIDs: ['bench.test/dev=zero'], Capabilities: null, Options: {} }]));
    results.runc = await timeRunc(N, store.rootfs, (spec) => {
      spec.linux.devices = [{ path: '/dev/z', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 }];
      spec.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' });
    });
  } finally {
    await store.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const mean = (k: string) => (results[k] ? stats(results[k]!).mean : NaN);
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : 'n/a');
  console.log(`run --rm --network none busybox true with devices   (${N} runs, ${os.cpus().length} cores, ms)`);
  console.log(`${''.padEnd(44)} ${'mean'.padStart(9)} ${'median'.padStart(9)} ${'min'.padStart(9)}`);
  console.log(row('berth engine, no device (device cgroup only)', results.plain));
  console.log(row('berth engine, --device /dev/zero:/dev/z', results.device, `${ratio(mean('device'), mean('plain'))} of no device`));
  console.log(row('berth engine, CDI device from a YAML spec', results.cdi, `${ratio(mean('cdi'), mean('plain'))} of no device`));
  console.log(row('runc run, the same node and cgroup rule', results.runc, results.runc ? `berth --device is ${ratio(mean('runc'), mean('device'))} faster, CDI ${ratio(mean('runc'), mean('cdi'))}` : 'runc not installed'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

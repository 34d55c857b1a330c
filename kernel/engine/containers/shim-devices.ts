// A container's devices as berth-shim is told them: device nodes and their
// cgroup rules, CDI mounts and hooks, extra groups and environment. Hooks
// get an OCI bundle (BUNDLE/oci/config.json) naming the container's root,
// which hooks such as NVIDIA's read to find it.
import * as fs from 'fs';
import * as path from 'path';
import { planDevices } from '../devices/plan';
import { DevicePlan } from '../devices/types';
import { StorePaths } from '../store/paths';
import { writeStartedDevices } from './gpu-use';
import { ContainerRecord } from './types';

type Pair = [string, string | number];

export function devicePlanOf(paths: StorePaths, r: ContainerRecord): DevicePlan {
  const h = r.HostConfig;
  return planDevices(h.Devices ?? [], h.DeviceRequests ?? [], { cdiDirs: paths.cdiDirs, generatedDir: paths.cdiDirs[0], rootless: paths.rootless });
}

// The container's env with the devices' on top (a device's word wins, as CDI's edits do).
export function envWithDevices(env: string[], plan: DevicePlan): string[] {
  const out = new Map<string, string>();
  for (const e of [...env, ...plan.env]) out.set(e.split('=')[0], e);
  return [...out.values()];
}

function writeOciBundle(bundle: string, r: ContainerRecord, env: string[]): string {
  const dir = path.join(bundle, 'oci');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const spec = {
    ociVersion: '1.0.2',
    root: { path: path.join(bundle, 'merged'), readonly: r.HostConfig.ReadonlyRootfs },
    process: { args: [r.Path, ...r.Args], env, cwd: r.Config.WorkingDir || '/' },
    hostname: r.Config.Hostname,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

export function devicePairs(plan: DevicePlan, bundle: string, r: ContainerRecord, env: string[]): Pair[] {
  const pairs: Pair[] = [];
  for (const n of plan.nodes) {
    pairs.push(['device', [n.path, n.type, n.major, n.minor, n.fileMode.toString(8), n.uid, n.gid, n.hostPath].join('\n')]);
    pairs.push(['device-rule', `${n.type} ${n.major} ${n.minor} ${n.permissions}`]);
  }
  // After the user's own mounts, so a device's files land on top of them.
  const depth = (p: string) => p.split('/').length;
  for (const m of [...plan.mounts].sort((a, b) => depth(a.containerPath) - depth(b.containerPath))) {
    const ro = m.options.includes('ro') ? 'ro' : 'rw';
    const data = m.type === 'tmpfs' ? m.options.filter((o) => o !== 'ro' && o !== 'rw').join(',') : '';
    pairs.push(['mount', [m.type, m.type === 'tmpfs' ? '' : m.hostPath, m.containerPath, ro, '0', data, m.options.filter((o) => o === 'nosuid' || o === 'noexec').join(',')].join('\n')]);
  }
  for (const h of plan.hooks) pairs.push(['hook', [h.stage, h.timeout, h.path, h.args.length, ...h.args, ...h.env].join('\x1f')]);
  if (plan.hooks.length) pairs.push(['hook-bundle', writeOciBundle(bundle, r, env)]);
  for (const g of plan.additionalGids) pairs.push(['additional-gid', g]);
  writeStartedDevices(bundle, plan.cdiDevices);
  return pairs;
}

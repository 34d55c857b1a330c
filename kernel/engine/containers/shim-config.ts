// What berth-shim is told, as the key/value pairs it reads: everything a
// run needs (layers, process, limits, mounts, networks, what to release
// when it ends) and everything an exec needs.
import * as path from 'path';
import { hexOf } from '../images/digest';
import { StorePaths } from '../store/paths';
import { VolumeStore } from '../volumes/store';
import { isAnonymous } from '../volumes/types';
import { isBridged, NetworkAttachments } from './attachments';
import { ContainerLookup } from './lookup';
import { shimMountValues } from './mounts';
import { devicePairs, devicePlanOf, envWithDevices } from './shim-devices';
import { encodeShimConfig } from './shim';
import { BerthError } from '../errors';
import * as fs from 'fs';
import { Container, ContainerRecord, HostConfig, ThrottleDevice } from './types';

type Pairs = Array<[string, string | number | boolean | undefined]>;

export interface ExecRequest {
  command: string[];
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  interactive: boolean;
}

// The container's anonymous volumes (the ones --rm and rm -v take along).
export function anonymousVolumes(volumes: VolumeStore, r: ContainerRecord): string[] {
  return (r.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => volumes.find(m.Name!)).filter((v) => v && isAnonymous(v)).map((v) => v!.Name);
}

// A block device's number (MAJ:MIN), which the kernel's I/O limits name.
export function deviceNumber(devPath: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(devPath);
  } catch {
    throw new BerthError(`no such device ${devPath} for an I/O limit; name a block device such as /dev/sda`, 'not-found');
  }
  if (!st.isBlockDevice()) throw new BerthError(`${devPath} is not a block device; I/O limits name block devices such as /dev/sda`);
  return `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
}

// --device-read-bps and the like, as the shim's "KIND MAJ:MIN RATE" lines.
export function throttlePairs(h: Partial<HostConfig>): Array<[string, string]> {
  const kinds: Array<[keyof HostConfig, string]> = [['BlkioDeviceReadBps', 'rbps'], ['BlkioDeviceWriteBps', 'wbps'], ['BlkioDeviceReadIOps', 'riops'], ['BlkioDeviceWriteIOps', 'wiops']];
  return kinds.flatMap(([field, kind]) => ((h[field] as ThrottleDevice[] | undefined) ?? []).map((t): [string, string] => ['blkio-throttle', `${kind} ${deviceNumber(t.Path)} ${t.Rate}`]));
}

export class ShimConfig {
  constructor(
    private readonly paths: StorePaths,
    private readonly lookup: ContainerLookup,
    private readonly attachments: NetworkAttachments,
    private readonly volumes: VolumeStore,
  ) {}

  // --network container:NAME joins that running container's namespace.
  private joinPairs(r: ContainerRecord): Pairs {
    const mode = r.HostConfig.NetworkMode;
    if (!mode.startsWith('container:')) return [];
    let target: Container;
    try {
      target = this.lookup.get(mode.slice('container:'.length));
    } catch {
      throw new BerthError(`cannot join the network of container ${mode.slice(10)}: it no longer exists`, 'not-found');
    }
    if (!target.state.Running || !target.shim) throw new BerthError(`cannot join the network of a non-running container: ${target.record.Name}; start it first`, 'conflict');
    return [['net-join-pid', target.shim.Pid], ['net-join-start', target.shim.PidStart]];
  }

  private networkPairs(r: ContainerRecord): Pairs {
    const names = Object.keys(r.NetworkSettings?.Networks ?? {});
    if (!names.length) return [];
    return [
      ...names.map((n, i): [string, string] => ['net', this.attachments.netEntry(r, n, i)]),
      ...Object.entries(r.HostConfig.PortBindings ?? {}).flatMap(([port, list]) =>
        list.map((b): [string, string] => ['publish', `${b.HostIp || '127.0.0.1'}:${b.HostPort || '0'}:${port}`])),
    ];
  }

  forRun(c: Container): Buffer {
    const r = c.record;
    const h = r.HostConfig;
    const networks = this.attachments.networks;
    const devices = devicePlanOf(this.paths, r);
    const env = envWithDevices(r.Config.Env, devices);
    c.cdiDevices = devices.cdiDevices;
    return encodeShimConfig([
      ['id', r.Id],
      ['bundle', c.bundle],
      ['layerdir', this.paths.snapshots],
      ['lower', path.basename(this.paths.initLayer)],
      ...[...r.Layers].reverse().map((l): [string, string] => ['lower', hexOf(l)]),
      ['hostname', r.Config.Hostname],
      ...[r.Path, ...r.Args].map((a): [string, string] => ['arg', a]),
      ...env.map((e): [string, string] => ['env', e]),
      ['cwd', r.Config.WorkingDir || '/'],
      ['user', r.Config.User],
      ['network', isBridged(r) ? 'bridge' : h.NetworkMode.startsWith('container:') ? 'container' : h.NetworkMode],
      ...this.joinPairs(r),
      ...this.networkPairs(r),
      ['cgroup-parent', this.paths.cgroupParent],
      ['memory', h.Memory || undefined],
      ['memory-swap', h.MemorySwap || undefined],
      ['cpu-quota', h.NanoCpus ? Math.round(h.NanoCpus / 1e9 * 100000) : undefined],
      ['cpu-period', h.NanoCpus ? 100000 : undefined],
      ['cpu-shares', h.CpuShares || undefined],
      ['pids-limit', h.PidsLimit > 0 ? h.PidsLimit : undefined],
      ['memory-reservation', h.MemoryReservation || undefined],
      ['cpuset-cpus', h.CpusetCpus || undefined],
      ['blkio-weight', h.BlkioWeight || undefined],
      ...throttlePairs(h),
      ...h.Ulimits.map((u): [string, string] => ['rlimit', `${u.Name}=${u.Soft}:${u.Hard}`]),
      ...shimMountValues(r.Mounts ?? []).map((m): [string, string] => ['mount', m]),
      ...devicePairs(devices, c.bundle, r, env),
      ['release', path.join(this.paths.names, r.Name)],
      // --rm takes the container's anonymous volumes with it, as docker does.
      ...anonymousVolumes(this.volumes, r).map((v): [string, string] => ['release-dir', path.dirname(this.volumes.dataDir(v))]),
      ...Object.values(r.NetworkSettings?.Networks ?? {}).map((e): [string, string] => ['release', networks.addressFile(e.NetworkID, e.IPAddress)]),
      ['tty', r.Config.Tty],
      ['stdin', r.Config.OpenStdin],
      ['readonly', h.ReadonlyRootfs],
      ['init', h.Init],
      ['rm', h.AutoRemove],
    ]);
  }

  forExec(c: Container, req: ExecRequest): Buffer {
    const env = new Map<string, string>();
    for (const e of [...c.record.Config.Env, ...req.env]) env.set(e.split('=')[0], e);
    return encodeShimConfig([
      ['id', c.record.Id],
      ['cgroup-parent', this.paths.cgroupParent],
      ['target-pid', c.shim!.Pid],
      ['target-start', c.shim!.PidStart],
      ...req.command.map((a): [string, string] => ['arg', a]),
      ...[...env.values()].map((e): [string, string] => ['env', e]),
      ['cwd', req.workdir ?? (c.record.Config.WorkingDir || '/')],
      ['user', req.user ?? c.record.Config.User],
      ['tty', req.tty],
      ['stdin', req.interactive],
    ]);
  }
}

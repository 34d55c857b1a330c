// The resource flags of run, create and update, checked as docker checks
// them before anything runs: memory, swap, reservation, CPUs, shares, the
// cpuset, the pids limit.
import * as os from 'os';
import { BerthError, HostConfig, ThrottleDevice } from '../engine';
import { parseBytes } from '../render/units';
import { FlagSpec, FlagValues, invalidFlag } from './flags';

export const limitFlags: FlagSpec[] = [
  { long: 'memory', short: 'm', kind: 'string', value: 'bytes', help: 'Memory limit' },
  { long: 'memory-swap', kind: 'string', value: 'bytes', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { long: 'memory-reservation', kind: 'string', value: 'bytes', help: 'Memory soft limit' },
  { long: 'cpus', kind: 'string', value: 'decimal', help: 'Number of CPUs' },
  { long: 'cpu-shares', short: 'c', kind: 'string', value: 'int', help: 'CPU shares (relative weight)' },
  { long: 'cpuset-cpus', kind: 'string', value: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { long: 'pids-limit', kind: 'string', value: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { long: 'blkio-weight', kind: 'string', value: 'uint16', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable' },
];

// Block I/O limits per device: run and create take them, update does not (as docker).
export const deviceLimitFlags: FlagSpec[] = [
  { long: 'device-read-bps', kind: 'list', value: 'list', help: 'Limit read rate (bytes per second) from a device' },
  { long: 'device-write-bps', kind: 'list', value: 'list', help: 'Limit write rate (bytes per second) to a device' },
  { long: 'device-read-iops', kind: 'list', value: 'list', help: 'Limit read rate (IO per second) from a device' },
  { long: 'device-write-iops', kind: 'list', value: 'list', help: 'Limit write rate (IO per second) to a device' },
];

function throttles(cmd: string, list: string[] | undefined, flag: string, iops: boolean): ThrottleDevice[] {
  return (list ?? []).map((spec) => {
    const i = spec.lastIndexOf(':');
    const devPath = spec.slice(0, i);
    const rateText = spec.slice(i + 1);
    if (i <= 0 || !devPath.startsWith('/dev/')) invalidFlag(cmd, spec, flag, `bad format: ${spec}; write /dev/DEVICE:${iops ? 'NUMBER' : 'RATE'}`);
    const rate = iops ? (/^\d+$/.test(rateText) ? Number(rateText) : undefined) : parseBytes(rateText);
    if (rate === undefined || rate <= 0) invalidFlag(cmd, spec, flag, `invalid rate ${rateText}`);
    return { Path: devPath, Rate: rate };
  });
}

function bytes(cmd: string, value: string, flag: string): number {
  const n = parseBytes(value);
  if (n === undefined) invalidFlag(cmd, value, flag, `invalid size: '${value}'`);
  return n;
}

// current: the container's limits before an update, for the checks that
// compare two of them (swap against memory).
// cpusHere: the CPUs --cpus may ask for (this machine's; a cluster's node checks its own).
export function limitsFromFlags(cmd: string, f: FlagValues, current: Partial<HostConfig> = {}, cpusHere = os.cpus().length): Partial<HostConfig> {
  const host: Partial<HostConfig> = {};
  if (typeof f.memory === 'string') {
    host.Memory = bytes(cmd, f.memory, '-m, --memory');
    if (host.Memory < 6 * 1024 * 1024) throw new BerthError('Minimum memory limit allowed is 6MB');
  }
  if (typeof f['memory-swap'] === 'string') {
    const v = f['memory-swap'];
    const s = v === '-1' ? -1 : bytes(cmd, v, '--memory-swap');
    const memory = host.Memory ?? current.Memory;
    if (!memory) throw new BerthError('You should always set the Memory limit when using Memoryswap limit, see usage');
    if (s !== -1 && s < memory) throw new BerthError('Minimum memoryswap limit should be larger than memory limit, see usage');
    host.MemorySwap = s;
  }
  if (typeof f['memory-reservation'] === 'string') {
    host.MemoryReservation = bytes(cmd, f['memory-reservation'], '--memory-reservation');
    const memory = host.Memory ?? current.Memory;
    if (memory && host.MemoryReservation > memory) throw new BerthError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (typeof f.cpus === 'string') {
    const n = Number(f.cpus);
    if (!/^\d*\.?\d+$/.test(f.cpus) || !Number.isFinite(n)) invalidFlag(cmd, f.cpus, '--cpus', 'failed to parse as a decimal number');
    const ncpu = cpusHere;
    if (n < 0.01 || n > ncpu) throw new BerthError(`range of CPUs is from 0.01 to ${ncpu.toFixed(2)}, as there are only ${ncpu} CPUs available`);
    host.NanoCpus = Math.round(n * 1e9);
  }
  if (typeof f['cpu-shares'] === 'string') {
    const n = Number(f['cpu-shares']);
    if (!Number.isInteger(n) || n < 0) invalidFlag(cmd, f['cpu-shares'], '-c, --cpu-shares', 'expected an integer');
    host.CpuShares = Math.min(Math.max(n, 2), 262144);
  }
  if (typeof f['cpuset-cpus'] === 'string') {
    const v = f['cpuset-cpus'];
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) invalidFlag(cmd, v, '--cpuset-cpus', 'use a list such as 0-2,4');
    const ncpu = os.cpus().length;
    const highest = Math.max(...v.split(/[,-]/).map(Number));
    if (highest >= ncpu) throw new BerthError(`Requested CPUs are not available - requested ${v}, available: 0-${ncpu - 1}`);
    host.CpusetCpus = v;
  }
  if (typeof f['blkio-weight'] === 'string') {
    const n = Number(f['blkio-weight']);
    if (!Number.isInteger(n) || (n !== 0 && (n < 10 || n > 1000))) invalidFlag(cmd, f['blkio-weight'], '--blkio-weight', 'range of blkio weight is from 10 to 1000');
    host.BlkioWeight = n;
  }
  const devices: Array<[keyof HostConfig, string, boolean]> = [
    ['BlkioDeviceReadBps', 'device-read-bps', false], ['BlkioDeviceWriteBps', 'device-write-bps', false],
    ['BlkioDeviceReadIOps', 'device-read-iops', true], ['BlkioDeviceWriteIOps', 'device-write-iops', true],
  ];
  for (const [field, flag, iops] of devices) {
    const list = throttles(cmd, f[flag] as string[] | undefined, `--${flag}`, iops);
    if (list.length) (host as Record<string, unknown>)[field] = list;
  }
  if (typeof f['pids-limit'] === 'string') {
    const n = Number(f['pids-limit']);
    if (!Number.isInteger(n)) invalidFlag(cmd, f['pids-limit'], '--pids-limit', 'expected an integer');
    host.PidsLimit = n > 0 ? n : 0;
  }
  return host;
}

// Looking into a running container: its processes (top) and its resource
// use (stats), read from its cgroup and /proc.
import * as fs from 'fs';
import { native, CgroupStats } from '../native';
import { StorePaths } from '../store/paths';
import { GpuUse, gpuUse } from './gpu-use';
import { Container, measured } from './types';

export interface ProcessRow {
  uid: number;
  user: string;
  pid: number;
  ppid: number;
  cpuPercent: number;
  startTime: Date;
  tty: string;
  cpuSeconds: number;
  command: string;
}

// null: the cgroup could not tell (controller missing): shown as "not
// measured", never as 0.
export interface StatsSample {
  id: string;
  name: string;
  cpuPercent: number | null;
  memoryUsage: number | null;
  memoryLimit: number; // the host's memory when unlimited, as docker shows it
  memoryPercent: number | null;
  netRx: number;
  netTx: number;
  blockRead: number | null;
  blockWrite: number | null;
  pids: number | null;
  gpus?: GpuUse[]; // only for a container with GPUs; [] where nvidia-smi cannot tell
  raw: CgroupStats;
}

const HZ = 100; // USER_HZ on Linux
let bootTimeMs: number | undefined;
function bootTime(): number {
  if (bootTimeMs === undefined) {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('btime '));
    bootTimeMs = Number(line?.split(' ')[1] ?? 0) * 1000;
  }
  return bootTimeMs;
}

function userNames(): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const l of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = l.split(':');
      if (f.length > 2) m.set(Number(f[2]), f[0]);
    }
  } catch {
    /* numeric ids then */
  }
  return m;
}

// The container's processes: its cgroup's, or, for a rootless container
// with no cgroup of its own, those in its PID namespace.
export function containerPids(paths: StorePaths, c: Container): number[] {
  if (paths.cgroupParent) return native().cgroupProcs(paths.cgroupParent, c.record.Id);
  const init = c.shim?.Pid;
  if (!init) return [];
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${init}/ns/pid`);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) === ns) pids.push(Number(name));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

export function topProcesses(paths: StorePaths, c: Container): ProcessRow[] {
  const users = userNames();
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const rows: ProcessRow[] = [];
  for (const pid of containerPids(paths, c)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // f[0] is field 3 (state): field N is f[N-3]
      const ppid = Number(f[1]);
      const ttyNr = Number(f[4]);
      const cpuTicks = Number(f[11]) + Number(f[12]);
      const startTicks = Number(f[19]);
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      let cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
      if (!cmd) cmd = `[${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}]`;
      const elapsed = uptime - startTicks / HZ;
      rows.push({
        uid,
        user: users.get(uid) ?? String(uid),
        pid,
        ppid,
        cpuPercent: elapsed > 0 ? Math.floor((cpuTicks / HZ / elapsed) * 100) : 0,
        startTime: new Date(bootTime() + (startTicks / HZ) * 1000),
        tty: ttyNr === 0 ? '?' : `pts/${ttyNr & 0xff}`,
        cpuSeconds: Math.floor(cpuTicks / HZ),
        command: cmd,
      });
    } catch {
      /* exited while we looked */
    }
  }
  return rows.sort((a, b) => a.pid - b.pid);
}

function netBytes(pid: number): [number, number] {
  let rx = 0;
  let tx = 0;
  try {
    for (const l of fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const [iface, rest] = l.split(':');
      if (!rest || iface.trim() === 'lo') continue;
      const n = rest.trim().split(/\s+/).map(Number);
      rx += n[0];
      tx += n[8];
    }
  } catch {
    /* gone */
  }
  return [rx, tx];
}

function hostMemory(): number {
  const line = fs.readFileSync('/proc/meminfo', 'utf8').split('\n').find((l) => l.startsWith('MemTotal:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

function unmeasured(pids: number): CgroupStats {
  return { memoryUsage: -1, memoryPeak: -1, memoryLimit: -1, cpuUsageNs: -1, pids, pidsLimit: -1, blkioRead: -1, blkioWrite: -1, oomKills: -1 };
}

export function sampleStats(paths: StorePaths, c: Container, previous?: { cpuNs: number; at: number }): StatsSample | undefined {
  // A rootless container with no cgroup of its own has its processes counted
  // and its network read; what only a cgroup measures shows as not measured.
  const raw = paths.cgroupParent ? native().cgroupStats(paths.cgroupParent, c.record.Id) : unmeasured(containerPids(paths, c).length);
  if (!raw) return undefined;
  const now = Date.now();
  const cpuNs = measured(raw.cpuUsageNs);
  const memoryUsage = measured(raw.memoryUsage);
  let cpuPercent: number | null = cpuNs === null ? null : 0;
  if (cpuNs !== null && previous && previous.cpuNs >= 0 && now > previous.at) cpuPercent = Math.max(0, ((cpuNs - previous.cpuNs) / ((now - previous.at) * 1e6)) * 100);
  const limit = raw.memoryLimit > 0 ? Math.min(raw.memoryLimit, hostMemory()) : hostMemory();
  const [rx, tx] = c.record.HostConfig.NetworkMode === 'host' ? [0, 0] : netBytes(c.state.Pid);
  return {
    id: c.record.Id,
    name: c.record.Name,
    cpuPercent,
    memoryUsage,
    memoryLimit: limit,
    memoryPercent: memoryUsage === null ? null : limit > 0 ? (memoryUsage / limit) * 100 : 0,
    netRx: rx,
    netTx: tx,
    blockRead: measured(raw.blkioRead),
    blockWrite: measured(raw.blkioWrite),
    pids: measured(raw.pids),
    gpus: gpuUse(c, containerPids(paths, c)),
    raw,
  };
}

// Experiment records: what ran (image digest, command, env, limits, mounts)
// and what it cost and produced (exit code, wall and CPU time, peak memory,
// a digest of stdout). Kept as JSON lines, one per foreground run, appended
// by `run --record FILE` (or every run after %record on) and read back by
// `records`.
import * as fs from 'fs';
import * as path from 'path';
import type { GpuRecord } from '../containers/gpu-use';
import { ContainerRecord, ExitInfo } from '../containers/types';
import { BerthError } from '../errors';

export interface ExperimentRecord {
  time: string; // when the run started, RFC 3339
  image: string; // as the user wrote it
  imageId: string; // sha256:... of the image config: the same ID means the same image
  command: string[];
  env: string[]; // the container's environment, HOSTNAME left out (it is the container ID)
  secretEnv?: string[]; // names whose values came from --env-file: shown as ***
  limits: { memory: number; memorySwap: number; cpus: number; cpuShares: number; pids: number; readOnly: boolean; network: string };
  mounts: string[]; // TYPE SOURCE:DEST[:ro]
  exitCode: number;
  oomKilled: boolean;
  wallSeconds: number;
  cpuSeconds: number | null; // null: not measured
  peakMemory: number | null;
  stdoutDigest: string | null; // sha256 of what the run printed on stdout (null when not captured)
  stdoutBytes: number | null;
  // Only for a run that had devices: --device nodes (HOST:CONTAINER:PERMS),
  // the CDI devices resolved at start, and each GPU's model, driver and the
  // most GPU memory the run's processes held.
  devices?: { host: string[]; cdi: string[]; gpus: GpuRecord[] };
  // Only for a run on a cluster context: where it ran and how long it queued.
  context?: RunContext;
}

export interface RunContext {
  name: string;
  kind: string; // slurm
  jobId: string;
  node: string;
  partition: string;
  queuedSeconds: number | null;
}

export interface RunDevices {
  cdi: string[];
  gpus: GpuRecord[];
}

export function experimentRecord(r: ContainerRecord, exit: ExitInfo, startedAt: Date, wallMs: number, stdout?: { digest: string; bytes: number }, devices?: RunDevices, context?: RunContext): ExperimentRecord {
  const h = r.HostConfig;
  const host = (h.Devices ?? []).map((d) => `${d.PathOnHost}:${d.PathInContainer}:${d.CgroupPermissions}`);
  return {
    time: startedAt.toISOString(),
    image: r.Config.Image,
    imageId: r.Image,
    command: [r.Path, ...r.Args],
    env: r.Config.Env.filter((e) => !e.startsWith('HOSTNAME=')),
    ...(r.SecretEnv?.length ? { secretEnv: r.SecretEnv } : {}),
    limits: { memory: h.Memory, memorySwap: h.MemorySwap, cpus: h.NanoCpus / 1e9, cpuShares: h.CpuShares, pids: h.PidsLimit, readOnly: h.ReadonlyRootfs, network: h.NetworkMode },
    mounts: (r.Mounts ?? []).map((m) => {
      const from = m.Type === 'bind' ? `${m.Source}:` : m.Type === 'volume' ? `${m.Name && !/^[0-9a-f]{64}$/.test(m.Name) ? m.Name : '(anonymous)'}:` : '';
      return `${m.Type} ${from}${m.Destination}${m.RW ? '' : ':ro'}`;
    }),
    exitCode: exit.exitCode,
    oomKilled: exit.oomKilled,
    wallSeconds: wallMs / 1000,
    cpuSeconds: exit.cpuNs === null ? null : exit.cpuNs / 1e9,
    peakMemory: exit.peakMemory,
    stdoutDigest: stdout ? stdout.digest : null,
    stdoutBytes: stdout ? stdout.bytes : null,
    ...(host.length || devices?.cdi.length ? { devices: { host, cdi: devices?.cdi ?? [], gpus: devices?.gpus ?? [] } } : {}),
    ...(context ? { context } : {}),
  };
}

export const DEFAULT_RECORD_FILE = 'berth-records.jsonl';

// Records hold every env value (a rerun needs them): the file is the
// user's alone, 0600, and directories made for it are 0700.
export function appendRecord(file: string, rec: ExperimentRecord): void {
  const abs = path.resolve(file);
  try {
    fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
    // One write per record, with O_APPEND: two kernels can share a file.
    const fd = fs.openSync(abs, 'a', 0o600);
    try {
      if (fs.fstatSync(fd).mode & 0o077) fs.fchmodSync(fd, 0o600); // one written before records were closed
      fs.writeSync(fd, JSON.stringify(rec) + '\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new BerthError(`cannot append the experiment record to ${file}: ${(e as Error).message}; choose a writable file with --record FILE`);
  }
}

export function readRecords(file: string): ExperimentRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new BerthError(`no experiment records in ${file} yet: run a container with --record ${file}, or turn recording on with %record on`, 'not-found');
  }
  return text.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      const r = JSON.parse(line) as ExperimentRecord;
      if (typeof r.imageId !== 'string' || !Array.isArray(r.command)) throw new Error('not a record');
      return [r];
    } catch {
      throw new BerthError(`${file} line ${i + 1} is not an experiment record; the file holds one JSON record per line, as --record writes them`);
    }
  });
}

// The records service: what ran and what it cost, kept as JSON lines.
export class RecordsService {
  readonly defaultFile = DEFAULT_RECORD_FILE;

  // The record of one finished foreground run.
  of(r: ContainerRecord, exit: ExitInfo, startedAt: Date, wallMs: number, stdout?: { digest: string; bytes: number }, devices?: RunDevices, context?: RunContext): ExperimentRecord {
    return experimentRecord(r, exit, startedAt, wallMs, stdout, devices, context);
  }

  append(file: string, rec: ExperimentRecord): void {
    appendRecord(file, rec);
  }

  read(file: string): ExperimentRecord[] {
    return readRecords(file);
  }
}

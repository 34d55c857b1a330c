import type { DeviceMapping, DeviceRequest } from '../devices/types';
import type { Endpoint } from '../network/types';

// Container types that cross from the engine to commands and render. Field
// names follow `docker inspect` so that inspect output and --format
// templates read the same as docker's.

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

// A block device and a rate (bytes or operations per second), as docker has it.
export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

export interface HostConfig {
  Memory: number; // bytes, 0 = unlimited
  MemorySwap: number; // memory + swap, 0 = default, -1 = unlimited
  NanoCpus: number;
  CpuShares: number;
  PidsLimit: number; // 0 = unlimited
  MemoryReservation: number; // bytes, 0 = none
  CpusetCpus: string; // "" = every CPU
  BlkioWeight: number; // 10..1000, 0 = default
  BlkioDeviceReadBps: ThrottleDevice[];
  BlkioDeviceWriteBps: ThrottleDevice[];
  BlkioDeviceReadIOps: ThrottleDevice[];
  BlkioDeviceWriteIOps: ThrottleDevice[];
  ReadonlyRootfs: boolean;
  NetworkMode: string; // none | host
  AutoRemove: boolean;
  Init: boolean;
  Ulimits: Ulimit[];
  PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>; // "80/tcp" -> bindings ("" = any free port)
  PublishAllPorts: boolean;
  Binds: string[]; // -v as given
  Mounts: MountSpec[]; // --mount, parsed
  Tmpfs: Record<string, string>; // --tmpfs PATH -> options
  Devices: DeviceMapping[]; // --device HOST[:CONTAINER][:PERMS]
  DeviceRequests: DeviceRequest[] | null; // --gpus, and --device VENDOR/CLASS=NAME (Driver "cdi"); null when none, as docker shows it
}

// A mount as asked for (docker's HostConfig.Mounts shape).
export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string; // host path or volume name; none for an anonymous volume or tmpfs
  Target: string;
  ReadOnly: boolean;
  NoCopy?: boolean; // volume: do not copy the image's files into a new, empty volume
  CreateHostPath?: boolean; // bind from -v: a missing host directory is created
  TmpfsOptions?: string; // tmpfs: mount data, e.g. size=64m,mode=1777
  // bind: Source is a path inside this directory, opened there as if it
  // were "/" (build context and stage mounts), never resolved on the host.
  SourceRoot?: string;
}

// A mount as made (docker inspect's top-level Mounts).
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string; // tmpfs: its mount options
  RW: boolean;
  Propagation: string;
  NoCopy?: boolean;
  SourceRoot?: string; // see MountSpec
}

export interface ContainerConfig {
  Hostname: string;
  User: string;
  Env: string[];
  Cmd: string[];
  Entrypoint: string[] | null;
  Image: string; // as the user wrote it
  WorkingDir: string;
  Tty: boolean;
  OpenStdin: boolean;
  AttachStdin: boolean;
  StopSignal?: string;
  Labels: Record<string, string>;
}

// What the engine writes at create time (BUNDLE/config.json).
export interface ContainerRecord {
  Id: string;
  Name: string; // without docker's leading "/"
  Created: string;
  Path: string;
  Args: string[];
  Image: string; // image ID, sha256:...
  Layers: string[]; // chain IDs, bottom first
  Config: ContainerConfig;
  HostConfig: HostConfig;
  RestartCount: number;
  Mounts: MountPoint[];
  NetworkSettings?: { Networks: Record<string, Endpoint> };
  SecretEnv?: string[]; // see CreateRequest.secretEnv
}

// What the shim writes (BUNDLE/state.json); absent fields before the first start.
export interface ShimState {
  Status: 'created' | 'running' | 'exited';
  Pid: number;
  PidStart: number;
  ShimPid: number;
  StartedAt: string;
  FinishedAt: string;
  ExitCode: number;
  OOMKilled: boolean;
  Error: string;
  PeakMemory: number; // -1: not measured (the cgroup could not tell)
  CpuNs: number; // -1: not measured
  Ports?: PublishedPort[];
}

// A port as the shim bound it.
export interface PublishedPort {
  HostIp: string;
  HostPort: number;
  ContainerPort: number;
  Protocol: 'tcp' | 'udp';
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface Container {
  record: ContainerRecord;
  state: ContainerState;
  shim: ShimState | undefined;
  bundle: string;
  cdiDevices?: string[]; // set by start: the CDI devices it resolved
}

export interface CreateRequest {
  image: string;
  command: string[]; // after IMAGE on the command line
  name?: string;
  entrypoint?: string; // undefined = the image's; "" = none
  env: string[];
  // The names among env whose values came from --env-file: shown as *** in
  // notebooks and records (engine/records/secret-env.ts), never on a command line.
  secretEnv?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty: boolean;
  openStdin: boolean;
  host: Partial<HostConfig>;
  labels?: Record<string, string>;
  networkAliases?: string[];
  ip?: string;
  mounts?: MountSpec[]; // -v, --mount and --tmpfs, in that order
  skipImageVolumes?: boolean; // build steps: an image VOLUME gets no anonymous volume
}

// How a caller attaches to a container's stdio when it starts it.
// "inherit" hands the caller's own fd to the shim (the CLI), "pipe" gives
// the caller a stream (the Jupyter kernel), "ignore" detaches.
export type StdioMode = 'inherit' | 'pipe' | 'ignore';
export interface AttachOptions {
  stdin: StdioMode;
  stdout: StdioMode;
  stderr: StdioMode;
}

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  peakMemory: number | null; // null: not measured, never a made-up 0
  cpuNs: number | null;
}

// The shim writes -1 for a figure it could not read.
export function measured(n: number | undefined): number | null {
  return n === undefined || !Number.isFinite(n) || n < 0 ? null : n;
}

export const DETACHED: AttachOptions = { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' };

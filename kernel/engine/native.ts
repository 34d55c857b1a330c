// Typed access to the C++ addon and the path of berth-shim.
import * as path from 'path';

export interface CgroupStats {
  memoryUsage: number;
  memoryPeak: number;
  memoryLimit: number; // -1 = unlimited
  cpuUsageNs: number;
  pids: number;
  pidsLimit: number; // -1 = unlimited
  blkioRead: number;
  blkioWrite: number;
  oomKills: number;
}

// The limits update writes; a field left out (or 0) stays as it is.
export interface CgroupLimits {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  pidsLimit?: number;
  cpusetCpus?: string;
  blkioWeight?: number;
}

export interface NativeAddon {
  cgroupVersion(): 'v1' | 'v2';
  cgroupStats(parent: string, id: string): CgroupStats | null;
  cgroupProcs(parent: string, id: string): number[];
  cgroupRemove(parent: string, id: string): boolean;
  cgroupFreeze(parent: string, id: string, frozen: boolean): boolean;
  // Writes the limits given into a running container's cgroup; '' or what failed.
  cgroupUpdate(parent: string, id: string, limits: CgroupLimits): string;
  signalProcess(pid: number, startTime: number, signal: number): boolean;
  mknod(path: string, mode: number, major: number, minor: number): void;
  flock(fd: number, exclusive: boolean): boolean;
  lgetxattr(path: string, name: string): Buffer | null;
  // The one path resolver (native/src/common/in-root.h), as fds the caller
  // closes. openInRoot: path resolved as if root were "/" (RESOLVE_IN_ROOT).
  // openBeneath: rel below root, no symlink followed anywhere on the way.
  // Both throw Node-style errors with .code (ENOENT, ELOOP, ...).
  openInRoot(root: string, path: string, flags: number, mode?: number): number;
  openBeneath(root: string, rel: string, flags: number, mode?: number): number;
  // syncfs(2) on the filesystem holding path: "" or what failed.
  syncfs(path: string): string;
  // Extracts a layer tarball safely on a worker thread: "" or an error message.
  // rootless: opaque markers in user.overlay.*, device nodes left out (see untar.h).
  untar(tarPath: string, dest: string, onProgress?: (bytesRead: number) => void, options?: { rootless: boolean }): Promise<string>;
  // The same from an open descriptor (a pipe's read end), which it takes and closes.
  untarFd(fd: number, name: string, dest: string, onProgress?: (bytesRead: number) => void, options?: { rootless: boolean }): Promise<string>;
  // [read end, write end], close-on-exec.
  pipe(): [number, number];
  // Bridges for container networks, in this process's network namespace.
  ensureBridge(name: string, gatewayCidr: string): void;
  deleteLink(name: string): void;
  linkExists(name: string): boolean;
  // zstd, chunk by chunk (Node 20's zlib has none): see images/decompress.ts.
  ZstdDecoder: new () => { push(chunk: Buffer): Buffer; end(): void };
  // and back, for push --compression zstd: see images/compress.ts.
  ZstdEncoder: new (level?: number) => { push(chunk: Buffer): Buffer; end(): Buffer };
}

// dist/kernel/engine -> repository root
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const buildDir = path.join(repoRoot, 'native', 'build', 'Release');

export const shimPath = path.join(buildDir, 'berth-shim');

let addon: NativeAddon | undefined;
export function native(): NativeAddon {
  if (!addon) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      addon = require(path.join(buildDir, 'berth.node')) as NativeAddon;
    } catch {
      const { BerthError } = require('./errors') as typeof import('./errors');
      throw new BerthError('the native core is not built; run `npm run setup` (as root) first', 'unavailable');
    }
  }
  return addon;
}

// From the mounts a user asked for (-v, --mount, --tmpfs) and the image's
// VOLUME lines to the container's mount points, with docker's rules: a
// named volume is made on first use, a bare path or an image VOLUME gets an
// anonymous one, a -v host path that is missing is created, a --mount one
// is an error.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { validVolumeName, VolumeStore } from '../volumes/store';
import { MountPoint, MountSpec } from './types';

function checkPath(p: string, what: string): void {
  if (/[\n\0]/.test(p)) throw new BerthError(`invalid ${what} ${JSON.stringify(p)}: a path cannot contain a newline or NUL`);
}

export function normalTarget(t: string): string {
  checkPath(t, 'mount path');
  if (!t.startsWith('/')) throw new BerthError(`invalid mount config: the mount path must be absolute: ${t}`);
  const n = path.posix.normalize(t).replace(/\/+$/, '') || '/';
  if (n === '/') throw new BerthError('invalid mount config: the destination cannot be "/"; mount a volume on a directory below it');
  return n;
}

export interface ResolvedMounts {
  mounts: MountPoint[];
  anonymous: string[]; // volumes made for this container (removed if creation fails)
}

export function resolveMounts(specs: MountSpec[], imageVolumes: string[], volumes: VolumeStore, labels: Record<string, string> = {}): ResolvedMounts {
  const mounts: MountPoint[] = [];
  const anonymous: string[] = [];
  const seen = new Set<string>();
  // Every spec is checked before any volume is made: a refused run makes none.
  const dests = specs.map((s) => normalTarget(s.Target));
  for (const [i, s] of specs.entries()) {
    const dest = dests[i];
    if (seen.has(dest)) throw new BerthError(`Duplicate mount point: ${dest}`);
    seen.add(dest);
    if (s.Type === 'volume' && s.Source !== undefined && !validVolumeName(s.Source)) {
      throw new BerthError(`"${s.Source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (at least 2 characters); a host path must start with / or ./`);
    }
  }
  try {
    for (const [i, s] of specs.entries()) {
      const dest = dests[i];
      const mode = s.ReadOnly ? 'ro' : 'rw';
      if (s.Type === 'bind' && s.SourceRoot !== undefined) {
        // A build's own mount, already resolved inside its root; the shim opens it there.
        checkPath(`${s.SourceRoot}${s.Source ?? ''}`, 'bind source');
        mounts.push({ Type: 'bind', Source: s.Source ?? '/', SourceRoot: s.SourceRoot, Destination: dest, Mode: mode, RW: !s.ReadOnly, Propagation: 'rprivate' });
      } else if (s.Type === 'bind') {
        checkPath(s.Source ?? '', 'bind source');
        if (!s.Source || !path.isAbsolute(s.Source)) throw new BerthError(`invalid mount config for type "bind": the source must be an absolute host path, got ${JSON.stringify(s.Source ?? '')}`);
        const src = path.resolve(s.Source);
        if (!fs.existsSync(src)) {
          if (!s.CreateHostPath) throw new BerthError(`invalid mount config for type "bind": bind source path does not exist: ${src}; create it first, or use -v, which creates it`);
          fs.mkdirSync(src, { recursive: true, mode: 0o755 });
        }
        mounts.push({ Type: 'bind', Source: src, Destination: dest, Mode: mode, RW: !s.ReadOnly, Propagation: 'rprivate' });
      } else if (s.Type === 'volume') {
        let v;
        if (s.Source) {
          v = volumes.create(s.Source);
        } else {
          v = volumes.create(undefined, labels);
          anonymous.push(v.Name);
        }
        mounts.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: dest, Driver: 'local', Mode: mode === 'ro' ? 'ro' : 'z', RW: !s.ReadOnly, Propagation: '', NoCopy: s.NoCopy || undefined });
      } else {
        if (s.Source) throw new BerthError('invalid mount config for type "tmpfs": a tmpfs mount takes no source');
        mounts.push({ Type: 'tmpfs', Source: '', Destination: dest, Mode: s.TmpfsOptions ?? '', RW: !s.ReadOnly, Propagation: '' });
      }
    }
    // An image VOLUME nobody mounted over gets a fresh anonymous volume.
    for (const raw of imageVolumes) {
      const dest = normalTarget(raw);
      if (seen.has(dest)) continue;
      seen.add(dest);
      const v = volumes.create(undefined, labels);
      anonymous.push(v.Name);
      mounts.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: dest, Driver: 'local', Mode: '', RW: true, Propagation: '' });
    }
  } catch (e) {
    for (const name of anonymous) volumes.remove(name, true);
    throw e;
  }
  return { mounts, anonymous };
}

// The shim's "mount" value: TYPE, SOURCE, DEST, ro|rw, copy-up, tmpfs data,
// then flags and the root SOURCE is opened inside (when it has one), one per line (paths were checked to hold no newline). Parents mount
// before what lies below them.
export function shimMountValues(mounts: MountPoint[]): string[] {
  const depth = (p: string) => p.split('/').length;
  return [...mounts]
    .sort((a, b) => depth(a.Destination) - depth(b.Destination))
    .map((m) => [m.Type, m.Source, m.Destination, m.RW ? 'rw' : 'ro', m.Type === 'volume' && !m.NoCopy ? '1' : '0', m.Type === 'tmpfs' ? m.Mode : '', ...(m.SourceRoot !== undefined ? ['', m.SourceRoot] : [])].join('\n'));
}

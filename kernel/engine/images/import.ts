// `import`: a root filesystem tarball (plain or gzip) becomes a one-layer
// image, as `docker import` makes it. The layer is stored uncompressed under
// its diff ID and unpacked once into its snapshot.
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import { BerthError } from '../errors';
import { MEDIA, ImageStore } from './store';
import { ContainerDefaults, Image, ImageConfig } from './types';
import { chainIds, hashingTap } from './digest';

export interface ImportRequest {
  source: string; // file path, or "-" for stdin
  ref?: string;
  message?: string;
  changes?: string[]; // Dockerfile lines: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL
}

function jsonOrShell(rest: string, shell: boolean): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* fall through to the shell form */
    }
  }
  return shell ? ['/bin/sh', '-c', t] : t.split(/\s+/);
}

export function applyChanges(defaults: ContainerDefaults, changes: string[]): void {
  for (const line of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (!m) throw new BerthError(`invalid --change "${line}": expected an instruction such as CMD ["sh"]`);
    const [, instr, rest] = m;
    switch (instr.toUpperCase()) {
      case 'CMD': defaults.Cmd = jsonOrShell(rest, true); break;
      case 'ENTRYPOINT': defaults.Entrypoint = jsonOrShell(rest, true); break;
      case 'WORKDIR': defaults.WorkingDir = rest.trim(); break;
      case 'USER': defaults.User = rest.trim(); break;
      case 'STOPSIGNAL': defaults.StopSignal = rest.trim(); break;
      case 'ENV': {
        const kv = rest.includes('=') ? rest.trim().split(/\s+/) : [rest.trim().replace(/\s+/, '=')];
        defaults.Env = [...(defaults.Env ?? []).filter((e) => !kv.some((n) => e.split('=')[0] === n.split('=')[0])), ...kv];
        break;
      }
      case 'LABEL':
        for (const kv of rest.trim().split(/\s+/)) {
          const [k, ...v] = kv.split('=');
          defaults.Labels = { ...(defaults.Labels ?? {}), [k]: v.join('=').replace(/^"|"$/g, '') };
        }
        break;
      case 'EXPOSE':
        for (const p of rest.trim().split(/\s+/)) defaults.ExposedPorts = { ...(defaults.ExposedPorts ?? {}), [p.includes('/') ? p : `${p}/tcp`]: {} };
        break;
      default:
        throw new BerthError(`${instr} is not supported by --change; use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER or WORKDIR`);
    }
  }
}

function isGzip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

export async function importImage(store: ImageStore, req: ImportRequest): Promise<Image> {
  const defaults: ContainerDefaults = {};
  applyChanges(defaults, req.changes ?? []);
  store.ensureLayout();
  const stamp = `${process.pid}-${Date.now()}`;
  let source = req.source;
  const spooled = path.join(store.paths.tmp, `import-${stamp}.in`);
  const tmp = path.join(store.paths.tmp, `import-${stamp}.tar`);
  try {
    if (source === '-') {
      await pipeline(process.stdin, fs.createWriteStream(spooled));
      source = spooled;
    } else if (!fs.existsSync(source)) {
      throw new BerthError(`open ${source}: no such file or directory; give the path of a root filesystem tarball`, 1);
    }
    const tap = hashingTap();
    const stages: NodeJS.ReadWriteStream[] = isGzip(source) ? [zlib.createGunzip(), tap.stream] : [tap.stream];
    try {
      await pipeline([fs.createReadStream(source), ...stages, fs.createWriteStream(tmp)]);
    } catch (e) {
      throw new BerthError(`${req.source} could not be read as a tarball: ${(e as Error).message}`, 1);
    }
    const size = tap.size();
    if (size === 0) throw new BerthError(`${req.source} is empty; give a root filesystem tarball`, 1);
    const diffId = tap.digest();
    const blob = store.blobPath(diffId);
    if (!fs.existsSync(blob)) fs.renameSync(tmp, blob);
    const [chainId] = chainIds([diffId]);
    try {
      await store.ensureSnapshot(chainId, diffId);
    } catch (e) {
      if (!fs.existsSync(store.snapshotDir(chainId))) fs.rmSync(blob, { force: true });
      throw e;
    }
    const created = new Date().toISOString();
    const config: ImageConfig = {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      created,
      config: defaults,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, created_by: '', comment: req.message || `Imported from ${req.source === '-' ? '-' : path.basename(req.source)}` }],
    };
    return store.commitImage(config, [{ mediaType: MEDIA.layerTar, digest: diffId, size }], req.ref);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(spooled, { force: true });
  }
}

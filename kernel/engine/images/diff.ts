// From a container's overlay upper dir to what changed: the A/C/D list of
// `diff`, and an OCI layer tarball (overlay whiteouts written back as
// .wh. entries, opaque directories as .wh..wh..opq, hard links kept).
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import * as tar from 'tar-stream';
import { hashingTap } from './digest';
import { TreeEntry, treeChanged, TreeReader, walkTree } from './tree';

export type ChangeKind = 'A' | 'C' | 'D';
export interface Change {
  kind: ChangeKind;
  path: string; // absolute inside the container, "/etc/hosts"
}

// An overlayfs whiteout: a 0:0 character device.
export function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

// lowerHas tells whether a path exists in the image below (to tell A from C).
export function listChanges(upper: string, lowerHas: (rel: string) => boolean): Change[] {
  const out: Change[] = [];
  walkTree(upper, ({ rel, st }) => {
    if (isWhiteout(st)) {
      out.push({ kind: 'D', path: `/${rel}` });
      return false;
    }
    out.push({ kind: lowerHas(rel) ? 'C' : 'A', path: `/${rel}` });
    return true;
  });
  return out;
}

export interface LayerFile {
  diffId: string;
  size: number;
}

// Writes the upper dir as a layer tarball to out and returns its digest.
// Entries are in sorted order; with an epoch (SOURCE_DATE_EPOCH, seconds)
// no file time is later than it, so the same tree packs to the same bytes.
export async function writeLayer(upper: string, out: string, opts: { epoch?: number } = {}): Promise<LayerFile> {
  const entries: TreeEntry[] = [];
  walkTree(upper, (e) => {
    entries.push(e);
    return !isWhiteout(e.st);
  });
  return writeEntries(entries, out, { opaqueMarkers: true, epoch: opts.epoch });
}

// The merged view of stacked layer directories (bottom first), as overlayfs
// shows it: upper entries hide lower ones, whiteouts delete, opaque
// directories hide everything below them.
export function mergedEntries(dirs: string[]): TreeEntry[] {
  const view = new Map<string, TreeEntry>();
  for (const dir of dirs) {
    walkTree(dir, (e) => {
      const { rel, st } = e;
      if (isWhiteout(st)) {
        for (const k of [...view.keys()]) if (k === rel || k.startsWith(`${rel}/`)) view.delete(k);
        return false;
      }
      if (st.isDirectory() && e.opaque) for (const k of [...view.keys()]) if (k.startsWith(`${rel}/`)) view.delete(k);
      if (!st.isDirectory()) for (const k of [...view.keys()]) if (k.startsWith(`${rel}/`)) view.delete(k);
      view.set(rel, e);
      return true;
    });
  }
  return [...view.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export async function writeEntries(entries: TreeEntry[], out: string | NodeJS.WritableStream, opts: { opaqueMarkers?: boolean; epoch?: number } = { opaqueMarkers: true }): Promise<LayerFile> {
  const clamp = opts.epoch === undefined ? undefined : new Date(opts.epoch * 1000);
  const pack = tar.pack();
  const tap = hashingTap();
  const done = pipeline(pack, tap.stream, typeof out === 'string' ? fs.createWriteStream(out) : out);
  const inodes = new Map<string, string>();
  const add = (header: Parameters<typeof pack.entry>[0], body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  const reader = new TreeReader();
  try {
    for (const e of entries) {
      const { rel, st } = e;
      const base = { uid: st.uid, gid: st.gid, mtime: clamp && st.mtime > clamp ? clamp : st.mtime, mode: st.mode & 0o7777 };
      if (isWhiteout(st)) {
        await add({ ...base, name: path.posix.join(path.posix.dirname(rel), `.wh.${path.posix.basename(rel)}`), type: 'file', size: 0 });
      } else if (st.isDirectory()) {
        await add({ ...base, name: `${rel}/`, type: 'directory' });
        if (opts.opaqueMarkers && e.opaque) await add({ ...base, name: `${rel}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644 });
      } else if (st.isSymbolicLink()) {
        await add({ ...base, name: rel, type: 'symlink', linkname: e.linkname });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first) {
          await add({ ...base, name: rel, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) inodes.set(key, rel);
        if (st.size <= 4 * 1024 * 1024) {
          // Small files in one read: a stream per file costs more than the file.
          await add({ ...base, name: rel, type: 'file', size: st.size }, reader.read(e));
          continue;
        }
        const fd = reader.open(e);
        await new Promise<void>((resolve, reject) => {
          // A file that shrinks under us leaves the entry short: say what changed.
          const entry = pack.entry({ ...base, name: rel, type: 'file', size: st.size }, (err) => (err ? reject(treeChanged(rel)) : resolve()));
          fs.createReadStream('', { fd, start: 0, end: Math.max(0, st.size - 1), autoClose: true }).on('error', () => reject(treeChanged(rel))).pipe(entry);
        });
      } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
        await add({
          ...base,
          name: rel,
          type: st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: Math.floor(st.rdev / 256) & 0xfff,
          devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
        });
      }
    }
  } finally {
    reader.close();
  }
  pack.finalize();
  await done;
  return { diffId: tap.digest(), size: tap.size() };
}

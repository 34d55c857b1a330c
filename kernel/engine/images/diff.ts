// From a container's overlay upper dir to what changed: the A/C/D list of
// `diff`, and an OCI layer tarball (overlay whiteouts written back as
// .wh. entries, opaque directories as .wh..wh..opq, hard links kept).
import * as fs from 'fs';
import * as path from 'path';
import { checkAborted } from '../errors';
import { TarSink, TarWriter } from './tar-writer';
import { readWhole, TreeEntry, treeChanged, TreeReader, walkTree } from './tree';

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
export async function writeLayer(upper: string, out: string, opts: { epoch?: number; still?: boolean; signal?: AbortSignal } = {}): Promise<LayerFile> {
  const entries: TreeEntry[] = [];
  walkTree(upper, (e) => {
    entries.push(e);
    return !isWhiteout(e.st);
  });
  return writeEntries(entries, out, { opaqueMarkers: true, epoch: opts.epoch, still: opts.still, signal: opts.signal });
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

function readStill(e: TreeEntry): Buffer {
  return readWhole(fs.openSync(path.join(e.root, e.rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW), e);
}

// The sink a tar goes to: a file, written in large synchronous chunks with
// a turn of the event loop between them (a kernel keeps answering), or a
// stream, with its back-pressure respected.
function sinkFor(out: string | NodeJS.WritableStream): { sink: TarSink; close(): Promise<void> } {
  if (typeof out === 'string') {
    const fd = fs.openSync(out, 'w', 0o644);
    return {
      sink: {
        write: async (chunk) => {
          for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off, chunk.length - off);
          await new Promise((r) => setImmediate(r));
        },
      },
      close: async () => fs.closeSync(fd),
    };
  }
  return {
    sink: {
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          const more = out.write(chunk, (err) => (err ? reject(err) : undefined));
          if (more) resolve();
          else out.once('drain', () => resolve());
        }),
    },
    close: () => new Promise<void>((resolve) => out.end(() => resolve())),
  };
}

// still: nothing can change the tree any more (a build step's finished
// upper dir, Berth's own staging dir), so files are read by path with
// O_NOFOLLOW (the walk saw only real directories on the way) instead of
// through the race-proof reader a running container's tree needs.
export async function writeEntries(entries: TreeEntry[], out: string | NodeJS.WritableStream, opts: { opaqueMarkers?: boolean; epoch?: number; still?: boolean; signal?: AbortSignal } = { opaqueMarkers: true }): Promise<LayerFile> {
  const clamp = opts.epoch === undefined ? undefined : new Date(opts.epoch * 1000);
  const { sink, close } = sinkFor(out);
  const tar = new TarWriter(sink);
  const inodes = new Map<string, string>();
  const reader = new TreeReader();
  try {
    for (const e of entries) {
      checkAborted(opts.signal, 'writing the layer');
      const { rel, st } = e;
      const base = { uid: st.uid, gid: st.gid, mtime: clamp && st.mtime > clamp ? clamp : st.mtime, mode: st.mode & 0o7777 };
      if (isWhiteout(st)) {
        await tar.entry({ ...base, name: path.posix.join(path.posix.dirname(rel), `.wh.${path.posix.basename(rel)}`), type: 'file' });
      } else if (st.isDirectory()) {
        await tar.entry({ ...base, name: `${rel}/`, type: 'directory' });
        if (opts.opaqueMarkers && e.opaque) await tar.entry({ ...base, name: `${rel}/.wh..wh..opq`, type: 'file', mode: 0o644 });
      } else if (st.isSymbolicLink()) {
        await tar.entry({ ...base, name: rel, type: 'symlink', linkname: e.linkname });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first) {
          await tar.entry({ ...base, name: rel, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) inodes.set(key, rel);
        if (st.size <= 4 * 1024 * 1024) {
          // Small files in one read: most of a layer's files are small.
          await tar.entry({ ...base, name: rel, type: 'file' }, opts.still ? readStill(e) : reader.read(e));
          continue;
        }
        // A big file in 1 MiB reads; one that shrinks under us says what changed.
        const fd = reader.open(e);
        try {
          await tar.header({ ...base, name: rel, type: 'file' }, st.size);
          const buf = Buffer.alloc(1 << 20);
          for (let off = 0; off < st.size; ) {
            const n = fs.readSync(fd, buf, 0, Math.min(buf.length, st.size - off), off);
            if (n === 0) throw treeChanged(rel);
            await tar.data(Buffer.from(buf.subarray(0, n)));
            off += n;
          }
          await tar.endData(st.size);
        } finally {
          fs.closeSync(fd);
        }
      } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
        await tar.entry({
          ...base,
          name: rel,
          type: st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: Math.floor(st.rdev / 256) & 0xfff,
          devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
        });
      }
    }
    const { digest, size } = await tar.finish();
    return { diffId: digest, size };
  } finally {
    reader.close();
    await close();
  }
}

// Staging COPY and ADD: files laid out under a directory exactly as the
// layer will hold them, then written as a layer. Sources come from the
// build context or from another stage's layers (--from).
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { compressionOfBytes, compressionOfFile, decompressors } from '../images/decompress';
import { isWhiteout } from '../images/diff';
import { unpackLayer } from '../images/unpack';
import { httpFetch } from '../registry/http';

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOptions {
  owner?: Owner; // none: each file keeps its own
  mode?: number;
  // src is an immutable snapshot: a file whose owner and mode stay as they
  // are is hard-linked, not copied (COPY --from of a stage's 2,000 files).
  link?: boolean;
  exclude?: (rel: string) => boolean; // COPY --exclude: paths below src to leave out
}

// Copies src (file, dir or symlink) to dst, giving files the owner and mode asked for.
export function copyTree(src: string, dst: string, opts: CopyOptions, rel = ''): void {
  const st = fs.lstatSync(src);
  if (isWhiteout(st)) {
    fs.rmSync(dst, { recursive: true, force: true });
    return;
  }
  const own = (p: string) => fs.lchownSync(p, opts.owner?.uid ?? st.uid, opts.owner?.gid ?? st.gid);
  if (st.isDirectory()) {
    if (!fs.existsSync(dst)) fs.mkdirSync(dst);
    fs.chmodSync(dst, opts.mode ?? st.mode & 0o7777);
    own(dst);
    for (const name of fs.readdirSync(src)) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (!opts.exclude?.(childRel)) copyTree(path.join(src, name), path.join(dst, name), opts, childRel);
    }
    fs.utimesSync(dst, st.atime, st.mtime);
  } else if (st.isFile() && opts.link && (opts.owner === undefined || (opts.owner.uid === st.uid && opts.owner.gid === st.gid)) && (opts.mode === undefined || opts.mode === (st.mode & 0o7777))) {
    fs.rmSync(dst, { recursive: true, force: true });
    try {
      fs.linkSync(src, dst);
    } catch {
      copyTree(src, dst, { ...opts, link: false }); // another filesystem, or not allowed: copy
    }
  } else if (st.isSymbolicLink()) {
    fs.rmSync(dst, { recursive: true, force: true });
    fs.symlinkSync(fs.readlinkSync(src), dst);
    own(dst);
  } else if (st.isFile()) {
    fs.rmSync(dst, { recursive: true, force: true });
    fs.copyFileSync(src, dst);
    own(dst);
    fs.chmodSync(dst, opts.mode ?? st.mode & 0o7777);
    fs.utimesSync(dst, st.atime, st.mtime);
  }
}

// Makes the parent directories of rel inside stage, copying each one's
// attributes from the image when the image has it, so the layer does not
// change them.
export function ensureParents(stage: string, rel: string, lookup: (rel: string) => fs.Stats | undefined): void {
  const parts = rel.split('/').filter(Boolean);
  let cur = '';
  for (const part of parts.slice(0, -1)) {
    cur = cur ? `${cur}/${part}` : part;
    const abs = path.join(stage, cur);
    if (fs.existsSync(abs)) continue;
    fs.mkdirSync(abs);
    const st = lookup(cur);
    if (st && st.isDirectory()) {
      fs.chmodSync(abs, st.mode & 0o7777);
      fs.lchownSync(abs, st.uid, st.gid);
    } else {
      fs.chmodSync(abs, 0o755);
    }
  }
}

export function looksLikeArchive(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(262);
    const n = fs.readSync(fd, b, 0, 262, 0);
    if (compressionOfBytes(b.subarray(0, n))) return true; // gzip or zstd, as BuildKit's ADD
    return n >= 262 && b.toString('latin1', 257, 262) === 'ustar';
  } finally {
    fs.closeSync(fd);
  }
}

export async function extractArchive(file: string, destDir: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  let tarFile = file;
  const compression = compressionOfFile(file);
  if (compression) {
    // Streamed, so a large archive never sits in memory whole.
    const { pipeline } = await import('stream/promises');
    tarFile = `${file}.tar`;
    await pipeline([fs.createReadStream(file), ...decompressors(compression), fs.createWriteStream(tarFile)]);
  }
  try {
    await unpackLayer(tarFile, destDir, onProgress);
  } finally {
    if (tarFile !== file) fs.rmSync(tarFile, { force: true });
  }
}

export async function download(url: string, dest: string): Promise<void> {
  let r: Response;
  try {
    r = await httpFetch(url);
  } catch (e) {
    throw new BerthError(`ADD failed: cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!r.ok) throw new BerthError(`ADD failed: ${url} answered HTTP ${r.status}`, 'unavailable');
  fs.writeFileSync(dest, Buffer.from(await r.arrayBuffer()));
  fs.chmodSync(dest, 0o600);
}

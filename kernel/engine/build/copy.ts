// Staging COPY and ADD: files laid out under a directory exactly as the
// layer will hold them, then written as a layer. Sources come from the
// build context or from another stage's layers (--from).
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { createHash, randomBytes } from 'crypto';
import { compressionOfBytes, compressionOfFile, decompressors } from '../images/decompress';
import { unpackLayer } from '../images/unpack';
import { httpFetch } from '../registry/http';
import { fdPath, Found, O_PATH, openBeneath, RootView, withFd } from '../store/in-root';

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

// Copies what src shows at srcRel (a file, a directory or a link, taken as
// written) to dstRel in dst's top layer. Both sides go through the one
// resolver (store/in-root.ts): a directory lands in the directory dst
// shows at dstRel, links there followed inside dst (one that this same
// copy just made included); a file or a link replaces the entry at dstRel
// itself. Whatever the layers hold, nothing is read or written outside
// the two views.
export function copyEntry(src: RootView, srcRel: string, dst: RootView, dstRel: string, opts: CopyOptions, rel = ''): void {
  const f = src.locate(srcRel);
  if (!f) return;
  const st = f.st;
  const uid = opts.owner?.uid ?? st.uid;
  const gid = opts.owner?.gid ?? st.gid;
  const mode = opts.mode ?? st.mode & 0o7777;
  if (st.isDirectory()) {
    const target = dst.resolve(dstRel);
    const fd = dst.dirFd(target);
    try {
      fs.chmodSync(fdPath(fd), mode);
      fs.chownSync(fdPath(fd), uid, gid);
      for (const name of src.readdir(f.rel)) {
        const childRel = rel ? `${rel}/${name}` : name;
        if (!opts.exclude?.(childRel)) copyEntry(src, f.rel ? `${f.rel}/${name}` : name, dst, target ? `${target}/${name}` : name, opts, childRel);
      }
      fs.utimesSync(fdPath(fd), st.atime, st.mtime);
    } finally {
      fs.closeSync(fd);
    }
    return;
  }
  const target = dst.resolve(dstRel, false);
  if (st.isSymbolicLink()) {
    const linkname = src.readlink(f);
    dst.replace(target, (pfd, name) => {
      fs.symlinkSync(linkname, fdPath(pfd, name));
      fs.lchownSync(fdPath(pfd, name), uid, gid);
      fs.lutimesSync(fdPath(pfd, name), st.atime, st.mtime);
    });
    return;
  }
  if (!st.isFile()) return; // sockets, devices and FIFOs are not copied, as in BuildKit
  if (opts.link && uid === st.uid && gid === st.gid && mode === (st.mode & 0o7777)) {
    // The source is an immutable snapshot: link it, no bytes copied. Both
    // names go through directory fds, so neither side follows a link.
    const linked = dst.replace(target, (pfd, name) => {
      const parent = f.rel.includes('/') ? f.rel.slice(0, f.rel.lastIndexOf('/')) : '';
      const sfd = openBeneath(f.layer, parent, O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
      if (sfd === undefined) return false;
      return withFd(sfd, () => {
        try {
          fs.linkSync(fdPath(sfd, f.rel.slice(f.rel.lastIndexOf('/') + 1)), fdPath(pfd, name));
          return true;
        } catch {
          return false; // another filesystem, or not allowed: copy
        }
      });
    });
    if (linked) return;
  }
  withFd(src.openFile(f), (from) => {
    withFd(dst.createFile(target), (to) => {
      fs.copyFileSync(fdPath(from), fdPath(to));
      fs.fchownSync(to, uid, gid);
      fs.fchmodSync(to, mode);
      fs.futimesSync(to, st.atime, st.mtime);
    });
  });
}

// An archive ADD unpacks: gzip or zstd (as BuildKit's ADD), or a plain tar.
export function looksLikeArchive(f: Found, view: RootView): boolean {
  return withFd(view.openFile(f), (fd) => {
    const b = Buffer.alloc(262);
    const n = fs.readSync(fd, b, 0, 262, 0);
    if (compressionOfBytes(b.subarray(0, n))) return true;
    return n >= 262 && b.toString('latin1', 257, 262) === 'ustar';
  });
}

// Unpacks the archive at file into destDir (both may be /proc/self/fd
// paths); a compressed one is decoded into tmpDir first, streamed, so a
// large archive never sits in memory whole.
export async function extractArchive(file: string, destDir: string, tmpDir: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  let tarFile = file;
  const compression = compressionOfFile(file);
  if (compression) {
    const { pipeline } = await import('stream/promises');
    tarFile = path.join(tmpDir, `add-${randomBytes(6).toString('hex')}.tar`);
    await pipeline([fs.createReadStream(file), ...decompressors(compression), fs.createWriteStream(tarFile, { mode: 0o600 })]);
  }
  try {
    await unpackLayer(tarFile, destDir, onProgress);
  } finally {
    if (tarFile !== file) fs.rmSync(tarFile, { force: true });
  }
}

// ADD <url>: streamed into fd chunk by chunk, never held in memory whole;
// returns the sha256 of what arrived, for --checksum.
export async function download(url: string, fd: number): Promise<string> {
  let r: Response;
  try {
    r = await httpFetch(url);
  } catch (e) {
    throw new BerthError(`ADD failed: cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!r.ok) {
    await r.body?.cancel().catch(() => undefined);
    throw new BerthError(`ADD failed: ${url} answered HTTP ${r.status}`, 'unavailable');
  }
  const hash = createHash('sha256');
  if (r.body) {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    }
  }
  return hash.digest('hex');
}

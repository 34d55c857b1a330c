// Unpacks one layer tarball into a snapshot directory for overlayfs.
// Nothing may land outside the target: absolute names, "..", writing through
// a symlink the layer made, and hard links to outside are refused. OCI
// whiteouts become overlayfs whiteouts (0:0 char devices and the opaque
// xattr) because each layer is a lower directory of its own.
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import * as tar from 'tar-stream';
import { BerthError } from '../errors';
import { native } from '../native';

export class UnsafeLayerError extends BerthError {}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

function cleanName(name: string): string {
  if (name.startsWith('/')) throw new UnsafeLayerError(`layer entry "${name}" has an absolute path; refusing to unpack it`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeLayerError(`layer entry "${name}" points outside the layer (".."); refusing to unpack it`);
  return parts.join('/');
}

// Every existing ancestor must be a real directory inside the target.
// Directories already checked in this unpack are remembered (safe is
// cleared below any path the layer replaces).
function checkParents(root: string, rel: string, safe: Set<string>): void {
  const parts = rel.split('/');
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = cur === root ? `${root}/${parts[i]}` : `${cur}/${parts[i]}`;
    if (safe.has(cur)) continue;
    safe.add(cur);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      fs.mkdirSync(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw new UnsafeLayerError(`layer entry "${rel}" would be written through the symlink "${parts.slice(0, i + 1).join('/')}"; refusing to unpack it`);
    if (!st.isDirectory()) throw new UnsafeLayerError(`layer entry "${rel}" is below "${parts.slice(0, i + 1).join('/')}", which is not a directory`);
  }
}

function removeExisting(target: string, keepDir: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    if (!keepDir) fs.rmSync(target, { recursive: true, force: true });
  } else {
    fs.unlinkSync(target);
  }
}

export async function unpackLayer(tarball: string, dest: string): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  const extract = tar.extract();
  const dirTimes: Array<[string, Date]> = [];
  const source = fs.createReadStream(tarball);
  let streamError: Error | undefined;
  const done = pipeline(source, extract).catch((e: Error) => {
    streamError = e;
  });
  try {
    await extractEntries(extract, dest, dirTimes);
  } catch (e) {
    source.destroy();
    await done;
    if (e instanceof BerthError) throw e;
    throw new BerthError(`layer ${path.basename(tarball)} is not a valid tar archive: ${(streamError ?? (e as Error)).message}`);
  }
  await done;
  if (streamError) throw new BerthError(`layer ${path.basename(tarball)} is not a valid tar archive: ${streamError.message}`);
  for (const [dir, time] of dirTimes.reverse()) fs.utimesSync(dir, time, time);
}

function forget(safe: Set<string>, target: string): void {
  for (const p of safe) if (p === target || p.startsWith(`${target}/`)) safe.delete(p);
}

async function readAll(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of entry) chunks.push(c as Buffer);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

async function extractEntries(extract: tar.Extract, dest: string, dirTimes: Array<[string, Date]>): Promise<void> {
  const safe = new Set<string>();
  for await (const entry of extract) {
    const h = entry.header;
    const rel = cleanName(h.name);
    if (rel === '') {
      entry.resume();
      continue;
    }
    checkParents(dest, rel, safe);
    const target = `${dest}/${rel}`;
    const base = path.basename(rel);
    if (base === OPAQUE) {
      native().lsetxattr(path.dirname(target), 'trusted.overlay.opaque', Buffer.from('y'));
      entry.resume();
      continue;
    }
    if (base.startsWith(WHITEOUT)) {
      const hidden = path.join(path.dirname(target), base.slice(WHITEOUT.length));
      removeExisting(hidden, false);
      native().mknod(hidden, fs.constants.S_IFCHR | 0o000, 0, 0);
      entry.resume();
      continue;
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        removeExisting(target, true);
        try {
          fs.mkdirSync(target);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        fs.chmodSync(target, mode);
        dirTimes.push([target, h.mtime ?? new Date(0)]);
        break;
      case 'file':
      case 'contiguous-file': {
        // One open file for content, mode, owner and times: fewer path lookups.
        let fd: number;
        try {
          fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o600);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ELOOP' && (e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
          removeExisting(target, false);
          forget(safe, target);
          fd = fs.openSync(target, 'w', 0o600);
        }
        try {
          if ((h.size ?? 0) > 0) fs.writeSync(fd, await readAll(entry));
          else entry.resume();
          fs.fchownSync(fd, h.uid ?? 0, h.gid ?? 0);
          fs.fchmodSync(fd, mode); // after chown, which clears setuid bits
          if (h.mtime) fs.futimesSync(fd, h.mtime, h.mtime);
        } finally {
          fs.closeSync(fd);
        }
        for (const [k, v] of Object.entries(h.pax ?? {})) {
          if (k.startsWith('SCHILY.xattr.')) native().lsetxattr(target, k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'binary'));
        }
        continue;
      }
      case 'symlink':
        removeExisting(target, false);
        forget(safe, target);
        fs.symlinkSync(h.linkname ?? '', target);
        break;
      case 'link': {
        const linked = cleanName(h.linkname ?? '');
        checkParents(dest, linked, safe);
        const src = path.join(dest, linked);
        if (!fs.existsSync(src)) throw new UnsafeLayerError(`layer entry "${rel}" links to "${h.linkname}", which the layer does not contain`);
        removeExisting(target, false);
        fs.linkSync(src, target);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        removeExisting(target, false);
        const kind = h.type === 'fifo' ? fs.constants.S_IFIFO : h.type === 'block-device' ? fs.constants.S_IFBLK : fs.constants.S_IFCHR;
        native().mknod(target, kind | mode, h.devmajor ?? 0, h.devminor ?? 0);
        break;
      }
      default:
        entry.resume();
        continue;
    }
    entry.resume(); // entries without data still need draining
    fs.lchownSync(target, h.uid ?? 0, h.gid ?? 0);
    if (h.type !== 'directory') {
      // chown clears setuid bits: put the mode back.
      if (h.type !== 'link' && h.type !== 'symlink') fs.chmodSync(target, mode);
      if (h.mtime) fs.lutimesSync(target, h.mtime, h.mtime);
    }
    for (const [k, v] of Object.entries(h.pax ?? {})) {
      if (k.startsWith('SCHILY.xattr.')) native().lsetxattr(target, k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'binary'));
    }
  }
}

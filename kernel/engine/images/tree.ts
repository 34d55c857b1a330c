// Reading a directory tree that a container can change under us (its upper
// directory, for commit, diff and export). Every name is opened relative to
// an open directory fd, through /proc/self/fd/N/NAME, with O_NOFOLLOW: a
// container that swaps a directory for a symlink mid-walk makes the walk
// fail, never lead outside the tree. The native extractor's rules, mirrored
// for packing.
import * as fs from 'fs';
import { BerthError } from '../errors';
import { native } from '../native';
import { overlayXattr } from '../store/rootless';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
// O_NONBLOCK: a FIFO swapped in for a file must not hang the open.
const FILE = O_RDONLY | O_NOFOLLOW | O_NONBLOCK;

const at = (dirFd: number, name?: string) => (name === undefined ? `/proc/self/fd/${dirFd}` : `/proc/self/fd/${dirFd}/${name}`);

export interface TreeEntry {
  root: string; // the tree's top directory on the host (a path Berth made)
  rel: string; // "etc/hosts"
  st: fs.Stats;
  linkname?: string; // symlinks: read during the walk, from the link itself
  opaque?: boolean; // directories: overlayfs's opaque marker
}

// A path that vanished or changed kind while it was read: the container
// was writing. Never an "internal error".
export function treeChanged(rel: string, e?: unknown): BerthError {
  // A file that cannot be opened for another reason than the race is not "changed".
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && !['ENOENT', 'ENOTDIR', 'ELOOP', 'ESTALE'].includes(code)) {
    return new BerthError(`cannot read /${rel} in the container's filesystem: ${(e as Error).message}`);
  }
  return new BerthError(`/${rel} changed while Berth was reading it: the container is still writing there; stop or pause it and try again`, 'conflict');
}

function openDir(path: string, rel: string): number {
  try {
    return fs.openSync(path, DIR);
  } catch (e) {
    throw treeChanged(rel, e);
  }
}

function isOpaque(dirFd: number, name: string): boolean {
  // lgetxattr on NAME inside the directory fd: the final name is not followed.
  const v = native().lgetxattr(at(dirFd, name), overlayXattr('opaque'));
  return v !== null && v.toString() === 'y';
}

// readlink of what lstat had just called a symlink: EINVAL means the
// container swapped it for something else in between.
function readLink(p: string, rel: string): string {
  try {
    return fs.readlinkSync(p);
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'EINVAL' ? treeChanged(rel) : e;
  }
}

function walkFd(root: string, dirFd: number, rel: string, visit: (e: TreeEntry) => boolean): void {
  let names: string[];
  try {
    names = fs.readdirSync(at(dirFd)).sort();
  } catch (e) {
    throw treeChanged(rel, e);
  }
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    let entry: TreeEntry;
    try {
      const st = fs.lstatSync(at(dirFd, name));
      entry = { root, rel: r, st };
      if (st.isSymbolicLink()) entry.linkname = readLink(at(dirFd, name), r);
      if (st.isDirectory()) entry.opaque = isOpaque(dirFd, name);
    } catch (e) {
      throw treeChanged(r, e);
    }
    const st = entry.st;
    if (!visit(entry) || !st.isDirectory()) continue;
    const fd = openDir(at(dirFd, name), r);
    try {
      const now = fs.fstatSync(fd);
      if (now.ino !== st.ino || now.dev !== st.dev) throw treeChanged(r);
      walkFd(root, fd, r, visit);
    } finally {
      fs.closeSync(fd);
    }
  }
}

// Visits every entry below root, parents first, names sorted; visit returns
// whether to go into a directory.
export function walkTree(root: string, visit: (e: TreeEntry) => boolean): void {
  const fd = openDir(root, '');
  try {
    walkFd(root, fd, '', visit);
  } finally {
    fs.closeSync(fd);
  }
}

// Walks down to rel's directory one component at a time, never through a symlink.
function openParent(root: string, parts: string[]): number {
  let fd = fs.openSync(root, DIR);
  try {
    for (const p of parts) {
      const next = fs.openSync(at(fd, p), DIR);
      fs.closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

// Opens and reads the regular files a walk saw, checking each is still that
// file. Entries come sorted, so the parent directory of the last one is kept
// open: the walk down from the root is paid once per directory, not per file.
export class TreeReader {
  private dirKey = '';
  private dirFd = -1;

  private parent(e: TreeEntry, parts: string[]): number {
    const key = `${e.root}\0${parts.slice(0, -1).join('/')}`;
    if (key === this.dirKey) return this.dirFd;
    this.close();
    try {
      this.dirFd = openParent(e.root, parts.slice(0, -1));
    } catch (err) {
      throw treeChanged(e.rel, err);
    }
    this.dirKey = key;
    return this.dirFd;
  }

  open(e: TreeEntry): number {
    const parts = e.rel.split('/');
    const dir = this.parent(e, parts);
    try {
      const fd = fs.openSync(at(dir, parts[parts.length - 1]), FILE);
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.ino !== e.st.ino || st.dev !== e.st.dev) {
        fs.closeSync(fd);
        throw treeChanged(e.rel);
      }
      return fd;
    } catch (err) {
      throw err instanceof BerthError ? err : treeChanged(e.rel, err);
    }
  }

  // Exactly the size the walk saw.
  read(e: TreeEntry): Buffer {
    return readWhole(this.open(e), e);
  }

  close(): void {
    if (this.dirFd >= 0) fs.closeSync(this.dirFd);
    this.dirFd = -1;
    this.dirKey = '';
  }
}

// The whole of an opened file, exactly the size the walk saw (a file that
// shrank says the tree changed); closes fd.
export function readWhole(fd: number, e: TreeEntry): Buffer {
  try {
    const buf = Buffer.allocUnsafe(e.st.size);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) throw treeChanged(e.rel);
      off += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

// Whether rel exists below root, without following any symlink on the way.
export function existsBeneath(root: string, rel: string): boolean {
  const parts = rel.split('/');
  let dir: number;
  try {
    dir = openParent(root, parts.slice(0, -1));
  } catch {
    return false;
  }
  try {
    fs.lstatSync(at(dir, parts[parts.length - 1]));
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(dir);
  }
}

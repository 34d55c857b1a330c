// The one path resolver for everything a build, a stage, a context or `cp`
// names. A RootView is one directory, or layer directories stacked as
// overlayfs stacks them (bottom first; whiteouts delete, opaque directories
// hide what is below). Paths are resolved as if the view were "/": ".."
// stops at the root, and symlinks, at every component and the last one
// too, are followed inside the view, including links an earlier step or
// the same COPY just made. Each layer is only ever entered through the
// addon's openBeneath (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so
// a link in a layer can never lead a lookup onto the host; writes go to
// the top layer through directory fds (/proc/self/fd/N/NAME), never by
// joining strings. BuildKit's fsutil and containerd's continuity keep the
// same rules.
import * as fs from 'fs';
import { BerthError } from '../errors';
import { native } from '../native';
import { overlayXattr } from './rootless';

export const O_PATH = 0o10000000;
const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const MAX_HOPS = 40; // Linux's own limit on symlinks in one lookup

export const fdPath = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

const parts = (p: string): string[] => p.split('/').filter((c) => c && c !== '.');
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EXDEV']);

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

// Runs fn with an fd that is closed afterwards whatever happens.
export function withFd<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// Opens rel below dir with no symlink followed on the way (the last one
// neither, with O_NOFOLLOW); undefined where the layer has no such path.
export function openBeneath(dir: string, rel: string, flags: number, mode?: number): number | undefined {
  try {
    return native().openBeneath(dir, rel || '.', flags, mode);
  } catch (e) {
    if (MISSING.has((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}

export interface Found {
  layer: string; // the layer directory that holds the entry the view shows
  rel: string; // its path there (the same in every layer)
  st: fs.Stats;
  dirs: string[]; // directories: every layer that adds to its listing, top first
}

interface LayerEntry {
  st: fs.Stats;
  opaque: boolean;
}

export class RootView {
  // layers: bottom first; the last one is where writes go.
  constructor(readonly layers: string[]) {
    if (!layers.length) throw new Error('a root view needs at least one directory');
  }

  static of(dir: string): RootView {
    return new RootView([dir]);
  }

  get top(): string {
    return this.layers[this.layers.length - 1];
  }

  // The entry at rel in one layer, never following a link; undefined if
  // that layer does not have it (or reaches it only through a link).
  private entryIn(layer: string, rel: string): LayerEntry | undefined {
    const ps = parts(rel);
    if (!ps.length) {
      const st = fs.statSync(layer);
      return { st, opaque: false };
    }
    const pfd = openBeneath(layer, ps.slice(0, -1).join('/'), O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (pfd === undefined) return undefined;
    return withFd(pfd, () => {
      const p = fdPath(pfd, ps[ps.length - 1]);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (!st) return undefined;
      const opaque = st.isDirectory() && native().lgetxattr(p, overlayXattr('opaque'))?.toString() === 'y';
      return { st, opaque };
    });
  }

  // What the view shows at rel, taken as written (no link in it followed).
  // Every lookup is kept (a COPY of 2,000 files looks up each directory
  // once, not once per file), and forgotten where this view writes: the
  // layers below the top are snapshots, which nothing changes.
  private readonly seen = new Map<string, Found | null>();

  locate(rel: string): Found | undefined {
    return this.locateParts(parts(rel));
  }

  private locateParts(ps: string[]): Found | undefined {
    const key = ps.join('/');
    const known = this.seen.get(key);
    if (known !== undefined) return known ?? undefined;
    let found: Found | undefined;
    if (!ps.length) {
      found = { layer: this.top, rel: '', st: fs.statSync(this.top), dirs: [...this.layers].reverse() };
    } else {
      const parent = this.locateParts(ps.slice(0, -1));
      if (parent?.st.isDirectory()) {
        const next: string[] = [];
        for (const layer of parent.dirs) {
          const e = this.entryIn(layer, key);
          if (!e) continue;
          if (isWhiteout(e.st)) break;
          if (!found) found = { layer, rel: key, st: e.st, dirs: next };
          // A file over a directory, or an opaque directory, hides what is below.
          if (!e.st.isDirectory() || !found.st.isDirectory()) break;
          next.push(layer);
          if (e.opaque) break;
        }
      }
    }
    this.seen.set(key, found ?? null);
    return found;
  }

  // What a write at rel changes: rel itself and all below it.
  private forget(rel: string): void {
    const key = parts(rel).join('/');
    for (const k of this.seen.keys()) if (k === key || k.startsWith(`${key}/`) || key === '') this.seen.delete(k);
  }

  lstat(rel: string): fs.Stats | undefined {
    return this.locate(rel)?.st;
  }

  readlink(f: Found): string {
    const ps = parts(f.rel);
    const pfd = openBeneath(f.layer, ps.slice(0, -1).join('/'), O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (pfd === undefined) throw new BerthError(`/${f.rel} changed while it was read`, 'conflict');
    return withFd(pfd, () => fs.readlinkSync(fdPath(pfd, ps[ps.length - 1])));
  }

  // Resolves p as if the view were "/", following links inside it (the
  // last component too unless followLast is false). Returns the clean path
  // without a leading slash ("" is the root). What does not exist is kept
  // as written, so a destination can be made there.
  resolve(p: string, followLast = true): string {
    const todo = parts(p);
    const cur: string[] = [];
    let hops = 0;
    while (todo.length) {
      const c = todo.shift()!;
      if (c === '..') {
        cur.pop();
        continue;
      }
      const f = this.locate([...cur, c].join('/'));
      if (f?.st.isSymbolicLink() && (todo.length > 0 || followLast)) {
        if (++hops > MAX_HOPS) throw new BerthError(`${p}: too many levels of symbolic links`, 'invalid-argument');
        const target = this.readlink(f);
        if (target.startsWith('/')) cur.length = 0;
        todo.unshift(...parts(target));
        continue;
      }
      cur.push(c);
    }
    return cur.join('/');
  }

  // The names in directory rel as the view shows them, sorted.
  readdir(rel: string): string[] {
    const f = this.locate(rel);
    if (!f || !f.st.isDirectory()) return [];
    const shown = new Set<string>();
    const hidden = new Set<string>();
    for (const layer of f.dirs) {
      const fd = openBeneath(layer, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (fd === undefined) continue;
      withFd(fd, () => {
        for (const name of fs.readdirSync(fdPath(fd))) {
          if (shown.has(name) || hidden.has(name)) continue;
          const st = fs.lstatSync(fdPath(fd, name), { throwIfNoEntry: false });
          if (st && isWhiteout(st)) hidden.add(name);
          else if (st) shown.add(name);
        }
      });
    }
    return [...shown].sort();
  }

  // Opens the file the view shows at rel (taken as written) for reading.
  openFile(f: Found): number {
    const fd = openBeneath(f.layer, f.rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (fd === undefined) throw new BerthError(`/${f.rel} changed while it was read`, 'conflict');
    return fd;
  }

  readFile(rel: string): Buffer | undefined {
    const f = this.locate(this.resolve(rel));
    if (!f || !f.st.isFile()) return undefined;
    return withFd(this.openFile(f), (fd) => fs.readFileSync(fd));
  }

  // --- writes, always into the top layer ---

  // An O_PATH fd on directory rel (resolved) in the top layer, making it
  // and its parents there as needed. A directory the layers below have is
  // made with their owner and mode, so the new layer does not change them.
  dirFd(rel: string): number {
    const ps = parts(rel);
    for (let i = 1; i <= ps.length; i++) {
      const prefix = ps.slice(0, i).join('/');
      const known = this.locate(prefix);
      if (known?.layer === this.top && known.st.isDirectory()) continue;
      const have = this.entryIn(this.top, prefix);
      if (have?.st.isDirectory()) continue;
      const below = known;
      if (have || (below && !below.st.isDirectory())) throw new BerthError(`cannot make /${prefix}: it is not a directory in the image`, 'invalid-argument');
      const pfd = this.dirFdExisting(ps.slice(0, i - 1).join('/'));
      this.forget(prefix);
      withFd(pfd, () => {
        const p = fdPath(pfd, ps[i - 1]);
        fs.mkdirSync(p, { mode: 0o755 });
        const st = below?.st;
        fs.chmodSync(p, st ? st.mode & 0o7777 : 0o755);
        if (st) fs.lchownSync(p, st.uid, st.gid);
      });
    }
    return this.dirFdExisting(rel);
  }

  private dirFdExisting(rel: string): number {
    const fd = openBeneath(this.top, rel, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (fd === undefined) throw new BerthError(`/${rel} changed while it was written`, 'conflict');
    return fd;
  }

  // Runs fn with the top layer's parent directory of rel (made as needed)
  // and the last name, after taking away what the top layer had there.
  replace<T>(rel: string, fn: (parentFd: number, name: string) => T): T {
    const ps = parts(rel);
    if (!ps.length) throw new BerthError('cannot replace the root directory', 'invalid-argument');
    return withFd(this.dirFd(ps.slice(0, -1).join('/')), (pfd) => {
      const name = ps[ps.length - 1];
      this.forget(rel);
      fs.rmSync(fdPath(pfd, name), { recursive: true, force: true });
      return fn(pfd, name);
    });
  }

  // A new regular file at rel (replacing what the top layer had), open for writing.
  createFile(rel: string, mode = 0o600): number {
    return this.replace(rel, (pfd, name) => fs.openSync(fdPath(pfd, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode));
  }

  // Removes rel from the top layer when it is what keep() says it is, never following a link.
  removeIf(rel: string, keep: (st: fs.Stats, path: string) => boolean): void {
    const ps = parts(rel);
    if (!ps.length) return;
    const pfd = openBeneath(this.top, ps.slice(0, -1).join('/'), O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (pfd === undefined) return;
    withFd(pfd, () => {
      const p = fdPath(pfd, ps[ps.length - 1]);
      const st = fs.lstatSync(p, { throwIfNoEntry: false });
      if (st && !keep(st, p)) {
        this.forget(rel);
        fs.rmSync(p, { recursive: true, force: true });
      }
    });
  }
}

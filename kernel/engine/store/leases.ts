// Work in progress, as containerd's leases: every operation that changes
// the store (pull, build, load, commit, run, rm, ...) holds a lease while
// it runs, a small file under ROOT/leases named after its process (pid and
// start time, so a recycled pid is never taken for the holder). The lease
// lists what the operation makes before it is recorded (blobs, snapshots),
// written before the thing itself, so garbage collection never takes it;
// and a lease whose process is dead says that a crash left work behind,
// which the next start cleans (store/recovery.ts). Each process also gets a
// temporary directory of its own (tmp/PID-START), removed with it.
import { AsyncLocalStorage } from 'async_hooks';
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { writeFileAtomic } from './files';
import { StorePaths } from './paths';

// pid-starttime of a process; starttime in clock ticks since boot (field 22
// of /proc/PID/stat), 0 when the process is gone.
export function processStart(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) || 0;
  } catch {
    return 0;
  }
}

let me: string | undefined;
export function selfId(): string {
  return (me ??= `${process.pid}-${processStart(process.pid)}`);
}

// Whether a process of that pid runs (for names that carry a pid alone).
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Whether the process named PID-START (a lease's or a tmp dir's owner) still runs.
export function ownerAlive(owner: string): boolean {
  const m = /^(\d+)-(\d+)/.exec(owner);
  if (!m) return false;
  return processStart(Number(m[1])) === Number(m[2]);
}

export function leasesDir(paths: StorePaths): string {
  return path.join(paths.root, 'leases');
}

// This process's own temporary directory: made on first use, removed when
// the process exits (and by the next start if it is killed).
export function ownTmp(paths: StorePaths): string {
  return path.join(paths.root, 'tmp', selfId());
}

const ownTmps = new Set<string>();
export function removeOwnTmpAtExit(paths: StorePaths): void {
  if (ownTmps.has(paths.tmp)) return;
  if (!ownTmps.size) process.once('exit', () => ownTmps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  ownTmps.add(paths.tmp);
}

export function ensureOwnTmp(paths: StorePaths): string {
  removeOwnTmpAtExit(paths);
  fs.mkdirSync(paths.tmp, { recursive: true, mode: 0o700 });
  return paths.tmp;
}

let seq = 0;

export class Lease {
  readonly file: string;
  private readonly held = new Set<string>();
  // Async work an operation started can outlive it (a log pump, a timer)
  // and still see its lease: once ended, it holds nothing and writes nothing.
  ended = false;

  constructor(readonly paths: StorePaths, readonly what: string) {
    fs.mkdirSync(leasesDir(paths), { recursive: true, mode: 0o700 });
    this.file = path.join(leasesDir(paths), `${selfId()}-${++seq}.json`);
    this.write();
  }

  // Content about to be made (digests, chain IDs): held from before it
  // exists until the lease ends, when a record (the image index) keeps it.
  hold(ids: Iterable<string>): void {
    if (this.ended) return;
    let added = false;
    for (const id of ids) {
      if (!this.held.has(id)) {
        this.held.add(id);
        added = true;
      }
    }
    if (added) this.write();
  }

  private write(): void {
    writeFileAtomic(this.file, JSON.stringify({ what: this.what, held: [...this.held] }), 0o600);
  }

  end(): void {
    this.ended = true;
    fs.rmSync(this.file, { force: true });
  }
}

const current = new AsyncLocalStorage<Lease>();

// Runs fn under a lease of its own (or the one an enclosing operation
// holds: a build's pulls and RUN containers belong to the build).
export async function during<T>(paths: StorePaths, what: string, fn: () => Promise<T>): Promise<T> {
  const outer = current.getStore();
  if (outer && !outer.ended && outer.paths.root === paths.root) return fn();
  let lease: Lease | undefined;
  try {
    lease = new Lease(paths, what);
    return await current.run(lease, fn);
  } catch (e) {
    throw spaceError(paths, what, e);
  } finally {
    lease?.end();
  }
}

export function duringSync<T>(paths: StorePaths, what: string, fn: () => T): T {
  const outer = current.getStore();
  if (outer && !outer.ended && outer.paths.root === paths.root) return fn();
  let lease: Lease | undefined;
  try {
    lease = new Lease(paths, what);
    return current.run(lease, fn);
  } catch (e) {
    throw spaceError(paths, what, e);
  } finally {
    lease?.end();
  }
}

// A full disk, whatever layer noticed it (a write in Node, the native
// extractor, a rename), said once in words that name the disk and the
// operation; what the operation had begun is gone with its lease.
function spaceError(paths: StorePaths, what: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err?.code !== 'ENOSPC' && !/No space left on device|ENOSPC/.test(err?.message ?? '')) return e;
  const detail = (err.message ?? '').replace(/^ENOSPC: /, '');
  return new BerthError(`no space left on the device holding ${paths.root} during ${what} (${detail}); nothing half-made was kept: free space there (berth system prune, berth image prune -a) or point BERTH_ROOT at a bigger disk`, 'unavailable');
}

// Holds ids in the operation's lease, if the caller runs under one.
export function hold(...ids: string[]): void {
  current.getStore()?.hold(ids);
}

export interface LeaseFile {
  file: string;
  owner: string; // PID-START
  alive: boolean;
  what: string;
  held: string[];
}

export function readLeases(paths: StorePaths): LeaseFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(leasesDir(paths));
  } catch {
    return [];
  }
  const out: LeaseFile[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const file = path.join(leasesDir(paths), n);
    let body: { what?: string; held?: string[] } = {};
    try {
      body = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof body;
    } catch {
      /* gone meanwhile: its operation ended */
      continue;
    }
    out.push({ file, owner: n, alive: ownerAlive(n), what: body.what ?? '', held: body.held ?? [] });
  }
  return out;
}

// Everything live leases hold.
export function leasedIds(paths: StorePaths): Set<string> {
  const out = new Set<string>();
  for (const l of readLeases(paths)) if (l.alive) for (const id of l.held) out.add(id);
  return out;
}

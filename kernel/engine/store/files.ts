// Atomic writes and locking, so that two Berth processes (two notebooks, a
// notebook and a terminal) can share one store.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { native } from '../native';

// Durable: the file and then its directory are fsynced around the rename
// that publishes it, so a machine crash (not only a killed process) never
// leaves a record that points at nothing, or loses one that was reported
// written. BERTH_NO_FSYNC=1 turns it off (benchmarks measure its cost).
const fsyncOff = (): boolean => process.env.BERTH_NO_FSYNC === '1';

export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644, durable = false): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  if (durable && !fsyncOff()) {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    syncDir(path.dirname(file));
    return;
  }
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

export function syncDir(dir: string): void {
  if (fsyncOff()) return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// Everything written on the store's filesystem reaches the disk: before a
// record (the image index) says that layers unpacked there are whole.
export function syncStore(root: string): void {
  if (fsyncOff()) return;
  const failed = native().syncfs(root);
  if (failed) throw new BerthError(`cannot flush ${root} to disk: ${failed}`, 'unavailable');
}

export function writeJsonAtomic(file: string, value: unknown, durable = false): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', 0o644, durable);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const sleepBuf = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepBuf, 0, 0, ms);
}

// An exclusive flock on lockFile without waiting: the fd to close when
// done, or undefined when another process holds it.
export function tryLock(lockFile: string): number | undefined {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const fd = fs.openSync(lockFile, 'a', 0o600);
  if (native().flock(fd, true)) return fd;
  fs.closeSync(fd);
  return undefined;
}

// Runs fn holding an exclusive flock on lockFile. Locks are short (an index
// update), so a brief synchronous wait keeps callers simple.
export function withLock<T>(lockFile: string, fn: () => T): T {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const fd = fs.openSync(lockFile, 'a');
  try {
    for (let i = 0; !native().flock(fd, true); i++) {
      if (i > 3000) throw new BerthError(`another Berth process has held ${lockFile} for 15 s; wait for it to finish (or stop it) and try again`, 'unavailable');
      sleepMs(5);
    }
    return fn();
  } finally {
    fs.closeSync(fd); // closing releases the flock
  }
}

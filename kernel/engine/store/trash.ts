// Deleting a directory the store records (a snapshot, a container's
// bundle, a volume): it is first renamed into ROOT/trash, which takes it
// out of the store in one step, and only then removed. A process killed
// half way through the removal leaves a directory in the trash, never a
// half-deleted one where the store would take it for whole; the next start
// empties the trash (store/recovery.ts).
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { StorePaths } from './paths';

// Moves dir into the trash; false if it was not there.
export function toTrash(paths: StorePaths, dir: string): string | undefined {
  fs.mkdirSync(paths.trash, { recursive: true, mode: 0o700 });
  const doomed = path.join(paths.trash, `${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
  try {
    fs.renameSync(dir, doomed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return doomed;
}

// Removes dir through the trash.
export function removeDir(paths: StorePaths, dir: string): void {
  const doomed = toTrash(paths, dir);
  if (doomed) emptyOne(doomed);
}

function emptyOne(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
  } catch {
    /* another process empties the trash at the same time, or a mount is still
       held there: the next start tries again */
  }
}

export function emptyTrash(paths: StorePaths): number {
  let names: string[];
  try {
    names = fs.readdirSync(paths.trash);
  } catch {
    return 0;
  }
  for (const n of names) emptyOne(path.join(paths.trash, n));
  return names.length;
}

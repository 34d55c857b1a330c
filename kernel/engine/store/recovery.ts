// What a crashed or killed Berth process leaves in the store, found and
// cleaned at the next start. Every operation holds a lease while it runs
// (store/leases.ts) and works in a tmp directory of its own, so a lease or
// tmp directory whose process is dead is the sign; without one, a start
// costs two directory reads. What is cleaned here is files only: tmp work,
// the trash, dead leases, half-written files beside blobs, and volumes a
// removal left behind. Containers, names and addresses are the container
// service's (containers/recovery.ts).
import * as fs from 'fs';
import * as path from 'path';
import { ownerAlive, pidAlive, readLeases } from './leases';
import { StorePaths } from './paths';
import { emptyTrash } from './trash';

// The label a build puts on its RUN containers: PID-START of the build.
export const BUILD_OWNER_LABEL = 'io.berth.build.owner';

export interface Finding {
  what: string; // a line for `system check`
  path?: string;
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

// tmp entries whose process is gone (or that no process owns: an older Berth's).
function deadTmps(paths: StorePaths): string[] {
  return list(paths.tmpRoot).filter((n) => !ownerAlive(n)).map((n) => path.join(paths.tmpRoot, n));
}

// Cheap: is there anything a dead process left?
export function needsRecovery(paths: StorePaths): boolean {
  return deadTmps(paths).length > 0 || list(paths.trash).length > 0 || readLeases(paths).some((l) => !l.alive);
}

// What recovery would clean in the store's files, without cleaning it.
export function storeLeftovers(paths: StorePaths): Finding[] {
  const out: Finding[] = [];
  for (const l of readLeases(paths)) if (!l.alive) out.push({ what: `an operation that did not finish (${l.what || 'unknown'}, process ${l.owner.split('-')[0]})`, path: l.file });
  for (const t of deadTmps(paths)) out.push({ what: 'work files of a process that is gone', path: t });
  for (const n of list(paths.trash)) out.push({ what: 'a deletion that did not finish', path: path.join(paths.trash, n) });
  const blobs = path.join(paths.images, 'blobs', 'sha256');
  for (const n of list(blobs)) if (n.endsWith('.tmp') && !ownerOfTmpFileAlive(n)) out.push({ what: 'a half-written blob', path: path.join(blobs, n) });
  for (const n of list(paths.snapshots)) if (n.endsWith('.tmp')) out.push({ what: 'a half-made layer directory', path: path.join(paths.snapshots, n) });
  const volumes = path.join(paths.root, 'volumes');
  for (const n of list(volumes)) if (n.startsWith('.removing-')) out.push({ what: 'a volume whose removal did not finish', path: path.join(volumes, n) });
  return out;
}

// writeFileAtomic names its temp file FILE.PID.RANDOM.tmp.
function ownerOfTmpFileAlive(name: string): boolean {
  const m = /\.(\d+)\.[a-z0-9]+\.tmp$/.exec(name);
  return m !== null && pidAlive(Number(m[1]));
}

// Cleans the store's files of what dead processes left. Returns what it cleaned.
export function recoverStoreFiles(paths: StorePaths): Finding[] {
  const found = storeLeftovers(paths);
  for (const f of found) {
    if (!f.path) continue;
    if (f.path.startsWith(paths.trash)) continue; // emptied below
    fs.rmSync(f.path, { recursive: true, force: true });
  }
  emptyTrash(paths);
  return found;
}

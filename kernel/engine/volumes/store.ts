// Named volumes: a directory per volume under ROOT/volumes/NAME, with the
// data in _data (what containers mount) and the record in volume.json. A
// volume outlives every container that mounts it; whether one is in use is
// asked of the containers, never cached, so two processes cannot disagree.
import * as fs from 'fs';
import * as path from 'path';
import { checkName, validName } from '../names';
import { toTrash } from '../store/trash';
import { BerthError, NotFoundError } from '../errors';
import { readJson, withLock, writeJsonAtomic } from '../store/files';
import { StorePaths } from '../store/paths';
import { ANONYMOUS_LABEL, isAnonymous, VolumeRecord } from './types';


export function validVolumeName(name: string): boolean {
  return validName('volume', name);
}

export class VolumeStore {
  // usersOf(name) lists the containers (IDs) whose mounts name the volume.
  constructor(private readonly paths: StorePaths, private readonly usersOf: (name: string) => string[]) {}

  private get dir(): string {
    return path.join(this.paths.root, 'volumes');
  }

  private recordFile(name: string): string {
    return path.join(this.dir, checkName('volume', name), 'volume.json');
  }

  dataDir(name: string): string {
    return path.join(this.dir, checkName('volume', name), '_data');
  }

  // Creating a volume that exists returns it, as docker does.
  create(name?: string, labels: Record<string, string> = {}): VolumeRecord {
    const anonymous = name === undefined;
    const volName = name ?? (require('crypto') as typeof import('crypto')).randomBytes(32).toString('hex');
    if (!validVolumeName(volName)) {
      throw new BerthError(`"${volName}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (at least 2 characters)`);
    }
    return withLock(path.join(this.dir, '.lock'), () => {
      const existing = readJson<VolumeRecord>(this.recordFile(volName));
      if (existing) return existing;
      fs.mkdirSync(this.dataDir(volName), { recursive: true, mode: 0o755 });
      const rec: VolumeRecord = {
        Name: volName,
        Driver: 'local',
        Mountpoint: this.dataDir(volName),
        CreatedAt: new Date().toISOString(),
        Labels: anonymous ? { ...labels, [ANONYMOUS_LABEL]: '' } : labels,
        Scope: 'local',
        Options: {},
      };
      writeJsonAtomic(this.recordFile(volName), rec);
      return rec;
    });
  }

  list(): VolumeRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => validVolumeName(n));
    } catch {
      return [];
    }
    return names.map((n) => readJson<VolumeRecord>(this.recordFile(n))).filter((v): v is VolumeRecord => !!v)
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  find(name: string): VolumeRecord | undefined {
    return validVolumeName(name) ? readJson<VolumeRecord>(this.recordFile(name)) : undefined;
  }

  get(name: string): VolumeRecord {
    const v = this.find(name);
    if (!v) throw new NotFoundError(`no such volume: ${name}; list volumes with \`berth volume ls\``);
    return v;
  }

  inUse(name: string): string[] {
    return this.usersOf(name);
  }

  // A volume that a container (running or not) mounts stays, unless forced
  // for a volume whose containers are all gone, as docker's `rm -f` would not.
  remove(name: string, force = false): void {
    const v = force ? this.find(name) : this.get(name);
    if (!v) return;
    const users = this.usersOf(name);
    if (users.length) {
      throw new BerthError(`remove ${name}: volume is in use - [${users.join(', ')}]; remove those containers first (berth rm)`, 'conflict');
    }
    // Into the trash first: a half-removed volume is never mounted again,
    // and what a kill leaves there goes at the next start.
    const doomed = withLock(path.join(this.dir, '.lock'), () => toTrash(this.paths, path.join(this.dir, name)));
    if (doomed) fs.rmSync(doomed, { recursive: true, force: true });
  }

  // Unused volumes go: the anonymous ones, or all of them with all=true.
  prune(all: boolean): { removed: string[]; reclaimed: number } {
    const removed: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if (!all && !isAnonymous(v)) continue;
      if (this.usersOf(v.Name).length) continue;
      const size = this.size(v.Name);
      try {
        this.remove(v.Name);
      } catch {
        continue; // taken meanwhile
      }
      removed.push(v.Name);
      reclaimed += size;
    }
    return { removed, reclaimed };
  }

  // Bytes held by the volume's files (what `system df -v` reports).
  size(name: string): number {
    let total = 0;
    const walk = (dir: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) total += fs.lstatSync(p).size;
      }
    };
    walk(this.dataDir(name));
    return total;
  }
}

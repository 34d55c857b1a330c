// Container names: generated "adjective_noun" when none is given, unique
// through NAME -> ID symlinks (symlink creation is atomic, so two Berth
// processes cannot take the same name).
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { checkName, validName } from '../names';

const adjectives = [
  'amber', 'brave', 'calm', 'clever', 'crisp', 'curious', 'daring', 'eager', 'fluent', 'gentle', 'glad', 'hardy',
  'humble', 'keen', 'lively', 'lucid', 'mellow', 'nimble', 'patient', 'placid', 'quiet', 'rapid', 'serene',
  'steady', 'sunny', 'swift', 'tidy', 'vivid', 'wise', 'witty', 'zesty', 'bold',
];
const nouns = [
  'albatross', 'badger', 'beacon', 'cedar', 'comet', 'coral', 'delta', 'dune', 'falcon', 'fjord', 'gale',
  'harbor', 'heron', 'island', 'jetty', 'kestrel', 'lagoon', 'lantern', 'marlin', 'meadow', 'narwhal', 'orca',
  'otter', 'pelican', 'quay', 'reef', 'schooner', 'skiff', 'tern', 'tide', 'walrus', 'wharf',
];

export function validateName(name: string): void {
  checkName('container', name);
}

// Claims a name for id; returns the name taken.
export function claimName(namesDir: string, id: string, wanted?: string): string {
  if (wanted !== undefined) checkName('container', wanted);
  fs.mkdirSync(namesDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const name = wanted ?? `${adjectives[(require('crypto') as typeof import('crypto')).randomInt(adjectives.length)]}_${nouns[(require('crypto') as typeof import('crypto')).randomInt(nouns.length)]}${attempt > 20 ? (require('crypto') as typeof import('crypto')).randomInt(1000) : ''}`;
    try {
      fs.symlinkSync(id, path.join(namesDir, name));
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (wanted) {
        const owner = fs.readlinkSync(path.join(namesDir, name));
        throw new BerthError(`Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`, 'conflict');
      }
    }
  }
}

export function releaseName(namesDir: string, name: string, id: string): void {
  if (!validName('container', name)) return;
  const link = path.join(namesDir, name);
  try {
    if (fs.readlinkSync(link) === id) fs.unlinkSync(link);
  } catch {
    /* already gone */
  }
}

export function lookupName(namesDir: string, name: string): string | undefined {
  if (!validName('container', name)) return undefined; // "../x" names no file of the store
  try {
    return fs.readlinkSync(path.join(namesDir, name));
  } catch {
    return undefined;
  }
}

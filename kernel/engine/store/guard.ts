// The store holds image layers with set-uid binaries and device nodes, and
// containers' upper directories, which a container's root writes. Any other
// user who could reach into it could become root, so it is closed to them,
// as Podman's (0700) and Docker's (0710) are. Checked at every start: an open
// store is closed again, or the run is refused.
import * as fs from 'fs';
import { BerthError } from '../errors';
import { StorePaths } from './paths';

function closeDir(dir: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BerthError(`cannot create the Berth ${what} ${dir}: ${(e as Error).message}; set BERTH_ROOT/BERTH_RUN to a directory you own`, 'permission');
  }
  const st = fs.statSync(dir);
  const me = process.getuid?.() ?? 0;
  if (st.uid !== me) throw new BerthError(`the Berth ${what} ${dir} belongs to uid ${st.uid}, not to you (uid ${me}); set BERTH_ROOT/BERTH_RUN to a directory of your own`, 'permission');
  if ((st.mode & 0o077) === 0) return;
  // A shared directory (/tmp, say) is never closed on the user's behalf.
  if (st.mode & 0o1002) {
    throw new BerthError(`the Berth ${what} ${dir} is writable by every user (mode ${(st.mode & 0o7777).toString(8)}); point BERTH_ROOT/BERTH_RUN at a directory of Berth's own`);
  }
  try {
    fs.chmodSync(dir, 0o700);
  } catch (e) {
    throw new BerthError(`the Berth ${what} ${dir} is open to other users (mode ${(st.mode & 0o7777).toString(8)}) and cannot be closed: ${(e as Error).message}; run \`chmod 700 ${dir}\``, 'permission');
  }
}

export function closeStore(paths: StorePaths): void {
  closeDir(paths.root, 'store');
  closeDir(paths.run, 'run directory');
}

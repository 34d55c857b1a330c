// Rootless Berth (see native/src/shim/rootless.h): a user who is not root
// runs Berth inside a user namespace of their own, started by
// `berth-shim enter`, where they are root over their files and their
// subordinate ids and nothing else. The engine then keeps a store of the
// user's own, has the shim make its bridges in the user's network
// namespace, and applies limits only where cgroup v2 delegates them.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BerthError } from '../errors';

// The host uid of the user, when this process runs rootless.
export function rootlessUid(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return env.BERTH_ROOTLESS ? Number(env.BERTH_ROOTLESS) : undefined;
}

export function isRootless(env: NodeJS.ProcessEnv = process.env): boolean {
  return rootlessUid(env) !== undefined;
}

// A process of another user that did not come through the launcher cannot
// do anything with containers: say how to start it properly.
export function assertEntered(env: NodeJS.ProcessEnv = process.env): void {
  if ((process.getuid?.() ?? 0) === 0 || isRootless(env)) return;
  throw new BerthError('Berth runs rootless only when started through its launcher: use the `berth` command (bin/berth), or `native/build/Release/berth-shim enter node dist/kernel/cli/main.js ...`', 'unavailable');
}

// $XDG_DATA_HOME/berth, else ~/.local/share/berth.
export function rootlessStoreRoot(env: NodeJS.ProcessEnv): string {
  const data = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(env.HOME || os.homedir(), '.local', 'share');
  return path.join(data, 'berth');
}

// The prefix of overlayfs's own xattrs in this store's layers and upper
// directories: a user namespace can only use user.* (mounted with userxattr).
export function overlayXattr(name: 'opaque', env: NodeJS.ProcessEnv = process.env): string {
  return `${isRootless(env) ? 'user' : 'trusted'}.overlay.${name}`;
}

// Where only the user's own uid is mapped (no subordinate range), files
// that layers give to other owners are squashed to root and no other user can run in
// a container. Said once per store: the first call returns the message.
export function squashNotice(storeRoot: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!isRootless(env) || !env.BERTH_ROOTLESS_SQUASHED) return undefined;
  try {
    fs.writeFileSync(path.join(storeRoot, '.squash-notice-given'), '', { flag: 'wx' });
  } catch {
    return undefined;
  }
  const user = env.USER || env.LOGNAME || 'USER';
  return `you have no subordinate id range in /etc/subuid and /etc/subgid, so Berth maps only your own uid: files that images give to other owners are squashed to root, and containers can run only as root. An administrator adds a range once with \`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}\` (the uidmap package provides newuidmap); then stop your Berth processes and run again.`;
}

// The cgroup under which a rootless user's containers get cgroups of their
// own: on cgroup v2, below the highest cgroup of the user's own process
// tree that the user owns (systemd's user@UID.service, which delegates
// memory and pids, or a subtree an administrator handed over). '' where
// there is none: cgroup v1, which never delegates, or no delegation.
export function delegatedCgroupParent(): string {
  const root = '/sys/fs/cgroup';
  let mine: string;
  try {
    if (!fs.existsSync(path.join(root, 'cgroup.controllers'))) return '';
    const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (!line) return '';
    mine = line.slice(3);
  } catch {
    return '';
  }
  // In the user namespace the user's own files show as owned by uid 0.
  const me = process.getuid?.() ?? 0;
  const parts = mine.split('/').filter(Boolean);
  let owned = '';
  for (let i = parts.length; i > 0; i--) {
    const rel = parts.slice(0, i).join('/');
    try {
      if (fs.statSync(path.join(root, rel)).uid !== me) break;
    } catch {
      break;
    }
    owned = rel;
  }
  return owned ? `${owned}/berth` : '';
}

// The controllers a rootless cgroup parent offers its children.
export function delegatedControllers(parent: string): string[] {
  if (!parent) return [];
  const root = '/sys/fs/cgroup';
  const top = parent.split('/').slice(0, -1).join('/');
  for (const dir of [parent, top]) {
    try {
      return fs.readFileSync(path.join(root, dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      /* not made yet: ask its parent */
    }
  }
  return [];
}

// Device nodes on this host, read with stat: what --device names and what
// a CDI deviceNode leaves out (its type and numbers come from the host's
// node, as the CDI specification says).
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, NotFoundError } from '../errors';
import { DeviceMapping, DeviceNode } from './types';

export interface HostNode {
  type: 'c' | 'b';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

// Linux's dev_t split (glibc's major()/minor()), on the 64-bit value.
function split(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

// The node at p, or undefined if p is not a device node; a missing path throws.
export function statNode(p: string, what: string): HostNode | undefined {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(p, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code === 'ENOENT'
      ? new NotFoundError(`${what}: no such device ${p} on this host; check the path (ls -l ${path.dirname(p)})`)
      : new BerthError(`${what}: cannot read ${p} (${code}); check its permissions`, 'permission');
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  return { type: st.isBlockDevice() ? 'b' : 'c', ...split(st.rdev), mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

// The nodes one --device gives: the node itself, or every node below a
// directory (--device /dev/dri), each at the same place under the target.
export function nodesOfMapping(m: DeviceMapping): DeviceNode[] {
  const what = `--device ${m.PathOnHost}`;
  const make = (host: string, container: string, n: HostNode): DeviceNode => ({
    path: path.posix.normalize(container), hostPath: host, type: n.type, major: n.major, minor: n.minor, fileMode: n.mode & 0o777, permissions: m.CgroupPermissions, uid: n.uid, gid: n.gid,
  });
  const node = statNode(m.PathOnHost, what);
  if (node) return [make(m.PathOnHost, m.PathInContainer, node)];
  if (!fs.statSync(m.PathOnHost).isDirectory()) throw new BerthError(`${what}: ${m.PathOnHost} is not a device node or a directory of them`);
  const out: DeviceNode[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isCharacterDevice() || e.isBlockDevice()) out.push(make(p, path.posix.join(m.PathInContainer, path.relative(m.PathOnHost, p)), statNode(p, what)!));
    }
  };
  walk(m.PathOnHost);
  if (!out.length) throw new BerthError(`${what}: the directory ${m.PathOnHost} holds no device nodes`);
  return out;
}

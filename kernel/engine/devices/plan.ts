// What a container's devices add to it, worked out from its HostConfig:
// --device nodes, CDI devices (by name, or through --gpus), their specs'
// edits (env, nodes, mounts, hooks, groups), and the environment docker
// sets for GPUs. Done at create, to refuse a bad request early, and again
// at each start, so a spec regenerated since is the one applied.
import * as path from 'path';
import { BerthError } from '../errors';
import type { CdiRegistry, ResolvedCdiDevice } from './cdi-registry';
import { CdiEdits } from './cdi-spec';
import { nodesOfMapping, statNode } from './host-devices';
import { gpuDeviceNames, gpuEnv, isGpuRequest, withNvidiaSpec } from './nvidia';
import { DeviceMapping, DeviceNode, DevicePlan, DeviceRequest } from './types';

export interface DeviceContext {
  cdiDirs: string[];
  generatedDir: string; // where a generated NVIDIA spec goes (one of cdiDirs)
  rootless: boolean;
}

// Mount options a CDI mount may carry: bind itself, what Berth applies, and
// propagation, which the container's private mounts make moot.
const MOUNT_OPTIONS = ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'noexec', 'nodev', 'private', 'rprivate', 'slave', 'rslave', 'relatime', 'noatime', 'norelatime'];

function underDev(p: string): boolean {
  const n = path.posix.normalize(p);
  return n.startsWith('/dev/') && n.length > 5 && !n.split('/').includes('..');
}

function checkNode(n: DeviceNode, what: string, rootless: boolean): DeviceNode {
  if (!underDev(n.path)) throw new BerthError(`${what}: the container path ${n.path} is not under /dev; device nodes work only there (the rest of the container's files are nodev)`);
  if (rootless && !(n.permissions.includes('r') && n.permissions.includes('w'))) {
    throw new BerthError(`${what}: a rootless container cannot limit a device to "${n.permissions}": it gets the host's node, and the host's file permissions decide; leave the permissions out, or run as root`, 'unavailable');
  }
  return { ...n, path: path.posix.normalize(n.path) };
}

function empty(): DevicePlan {
  return { nodes: [], env: [], mounts: [], hooks: [], additionalGids: [], cdiDevices: [] };
}

function applyEdits(plan: DevicePlan, e: CdiEdits, what: string, rootless: boolean): void {
  plan.env.push(...e.env);
  for (const d of e.deviceNodes) {
    const host = d.hostPath ?? d.path;
    // Type and numbers left out come from the host's node.
    const known = d.type !== undefined && d.major !== undefined && d.minor !== undefined;
    const st = !known || rootless || d.fileMode === undefined ? statNode(host, what) : undefined;
    if (!known && !st) throw new BerthError(`${what}: ${host} is not a device node, and the spec gives no type and numbers for ${d.path}`);
    if (d.type === 'p') throw new BerthError(`${what}: ${d.path} is a FIFO (type p); Berth makes only device nodes`);
    const type = d.type === undefined ? st!.type : d.type === 'b' ? 'b' : 'c';
    if (rootless && (!st || st.type !== type || st.major !== (d.major ?? st.major) || st.minor !== (d.minor ?? st.minor))) {
      throw new BerthError(`${what}: a rootless container gets the host's node, and ${host} is not the device ${d.path} names`, 'unavailable');
    }
    plan.nodes.push(checkNode({
      path: d.path, hostPath: host, type, major: d.major ?? st!.major, minor: d.minor ?? st!.minor,
      fileMode: d.fileMode !== undefined ? d.fileMode & 0o7777 : (st?.mode ?? 0o666) & 0o7777,
      permissions: d.permissions ?? 'rwm', uid: d.uid ?? 0, gid: d.gid ?? 0,
    }, what, rootless));
  }
  for (const m of e.mounts) {
    const type = m.type ?? 'bind';
    if (type !== 'bind' && type !== 'tmpfs') throw new BerthError(`${what}: mount of type "${type}" on ${m.containerPath} is not supported (bind and tmpfs are)`);
    const bad = type === 'bind' ? m.options.filter((o) => !MOUNT_OPTIONS.includes(o)) : [];
    if (bad.length) throw new BerthError(`${what}: mount option${bad.length > 1 ? 's' : ''} ${bad.join(', ')} on ${m.containerPath} cannot be applied (Berth applies ${MOUNT_OPTIONS.join(', ')})`);
    if (type === 'bind' && !m.hostPath.startsWith('/')) throw new BerthError(`${what}: mount source ${m.hostPath} is not an absolute path`);
    plan.mounts.push({ hostPath: m.hostPath, containerPath: path.posix.normalize(m.containerPath), type, options: m.options });
  }
  for (const h of e.hooks) plan.hooks.push({ stage: h.hookName, path: h.path, args: h.args, env: h.env, timeout: h.timeout ?? 0 });
  for (const g of e.additionalGids) if (!plan.additionalGids.includes(g)) plan.additionalGids.push(g);
}

export function planDevices(devices: DeviceMapping[], requests: DeviceRequest[], ctx: DeviceContext): DevicePlan {
  const plan = empty();
  for (const m of devices) plan.nodes.push(...nodesOfMapping(m).map((n) => checkNode(n, `--device ${m.PathOnHost}`, ctx.rootless)));
  if (!requests.length) return plan;
  // The YAML reader loads only for a container that names CDI devices.
  const { CdiRegistry: Registry } = require('./cdi-registry') as typeof import('./cdi-registry');
  const load = (): CdiRegistry => new Registry(ctx.cdiDirs);
  let registry = load();
  const names: string[] = [];
  const gpuEnvs: string[] = [];
  for (const r of requests) {
    if (!isGpuRequest(r)) {
      names.push(...(r.DeviceIDs ?? []));
      continue;
    }
    registry = withNvidiaSpec(registry, ctx.generatedDir, load);
    names.push(...gpuDeviceNames(r, registry));
    gpuEnvs.push(...gpuEnv(r));
  }
  const resolved: ResolvedCdiDevice[] = [];
  for (const n of names) {
    for (const d of registry.resolve(n)) if (!resolved.some((x) => x.qualified === d.qualified)) resolved.push(d);
  }
  // A spec's own edits apply once, whichever of its devices are used.
  const specs = new Set<string>();
  for (const d of resolved) {
    if (!specs.has(d.spec.file)) {
      specs.add(d.spec.file);
      applyEdits(plan, d.spec.containerEdits, `CDI spec ${d.spec.file}`, ctx.rootless);
    }
    applyEdits(plan, d.device.containerEdits, `CDI device ${d.qualified}`, ctx.rootless);
    plan.cdiDevices.push(d.qualified);
  }
  plan.env.push(...gpuEnvs);
  // One node per path: the last word wins, as a later edit does in CDI.
  const byPath = new Map<string, DeviceNode>();
  for (const n of plan.nodes) byPath.set(n.path, n);
  plan.nodes = [...byPath.values()];
  return plan;
}

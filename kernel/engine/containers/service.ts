// The containers service: create (with its network address and volumes),
// start, signal, stop, restart, remove, wait and exec, each talking to a
// berth-shim. State and lookup, network attachments and the shim's config
// are parts of their own; what reads a container's files or its cgroup
// (commit, diff, export, logs, top, stats) is loaded when first asked for.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import type { Image } from '../images/types';
import { ImageStore } from '../images/store';
import { native } from '../native';
import { NetworkStore } from '../network/store';
import { NetworkRecord } from '../network/types';
import { writeJsonAtomic } from '../store/files';
import { during, hold, selfId } from '../store/leases';
import { toTrash } from '../store/trash';
import { CREATOR } from './recovery';
import { StorePaths } from '../store/paths';
import { VolumeStore } from '../volumes/store';
import { isBridged, NetworkAttachments } from './attachments';
import type { CommitRequest } from './commit';
import { buildRecord, newContainerId, writeEtcFiles } from './create';
import type { LogEntry, LogOptions } from './logs';
import { ContainerLookup, stateOf } from './lookup';
import { resolveMounts } from './mounts';
import { refuseUndelegatedLimits } from './rootless-limits';
import { claimName, releaseName, validateName } from './names';
import type { ProcessRow, StatsSample } from './observe';
import { ShimHandle, startShim } from './shim';
import { anonymousVolumes, ExecRequest, ShimConfig, throttlePairs } from './shim-config';
import { devicePlanOf } from './shim-devices';
import { parseSignal } from './signals';
import { AttachOptions, Container, ContainerRecord, CreateRequest, DETACHED, HostConfig } from './types';
import type { Change } from '../images/diff';
import type { GpuRecord } from './gpu-use';

export type { ExecRequest } from './shim-config';

export class ContainerService {
  readonly volumes: VolumeStore;
  readonly attachments: NetworkAttachments;
  private readonly lookup: ContainerLookup;
  private readonly shimConfig: ShimConfig;

  constructor(readonly paths: StorePaths, readonly images: ImageStore, readonly networks: NetworkStore) {
    this.lookup = new ContainerLookup(paths);
    this.volumes = new VolumeStore(paths, (name) => this.lookup.usersOfVolume(name));
    this.attachments = new NetworkAttachments(this.lookup, networks);
    this.shimConfig = new ShimConfig(paths, this.lookup, this.attachments, this.volumes);
  }

  bundle(id: string): string {
    return this.lookup.bundle(id);
  }

  listIds(): string[] {
    return this.lookup.listIds();
  }

  list(all: boolean): Container[] {
    return this.lookup.list(all);
  }

  get(ref: string): Container {
    return this.lookup.get(ref);
  }

  waitStopped(id: string, timeoutMs = Infinity): Promise<boolean> {
    return this.lookup.waitStopped(id, timeoutMs);
  }

  connect(netRef: string, ref: string, opts: { aliases: string[]; ip?: string }): void {
    this.attachments.connect(netRef, ref, opts);
  }

  disconnect(netRef: string, ref: string): void {
    this.attachments.disconnect(netRef, ref);
  }

  // The record a request would make, with nothing created: what a run
  // elsewhere (a cluster) is recorded as, computed as a local run's is.
  preview(req: CreateRequest): ContainerRecord {
    return buildRecord('0'.repeat(64), req.name ?? '', req, this.images.resolve(req.image));
  }

  // The bundle is made first, with a note of who is making it; then the
  // name is claimed; the container exists once config.json is written
  // (last, by rename). A create killed at any point leaves a bundle whose
  // maker is dead, which the next start removes with its name.
  create(req: CreateRequest): Promise<Container> {
    return during(this.paths, 'create', () => this.createLeased(req));
  }

  private async createLeased(req: CreateRequest): Promise<Container> {
    if (req.name !== undefined) validateName(req.name);
    const image = this.images.resolve(req.image);
    hold(...image.chainIds, ...image.layers.map((l) => l.digest)); // no collection takes its layers meanwhile
    for (let i = 0; i < image.chainIds.length; i++) {
      if (!fs.existsSync(this.images.snapshots.snapshotDir(image.chainIds[i]))) {
        await this.images.snapshots.ensureSnapshot(image.chainIds[i], image.layers[i].digest);
      }
    }
    const id = newContainerId();
    const bundle = this.bundle(id);
    fs.mkdirSync(bundle, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(bundle, CREATOR), selfId());
    let name: string;
    try {
      name = claimName(this.paths.names, id, req.name);
    } catch (e) {
      fs.rmSync(bundle, { recursive: true, force: true });
      throw e;
    }
    const endpoints: Array<{ net: NetworkRecord; ip: string }> = [];
    let anonymous: string[] = [];
    try {
      const record = buildRecord(id, name, req, image);
      throttlePairs(record.HostConfig); // a device that is not a block device is named now
      refuseUndelegatedLimits(this.paths, record.HostConfig);
      devicePlanOf(this.paths, record); // a missing device or a bad CDI spec is named now
      const imageVolumes = req.skipImageVolumes ? [] : Object.keys(image.config.config.Volumes ?? {});
      const resolved = resolveMounts(req.mounts ?? [], imageVolumes, this.volumes);
      record.Mounts = resolved.mounts;
      anonymous = resolved.anonymous;
      if (isBridged(record)) {
        const { net, ep } = this.attachments.claim(record.HostConfig.NetworkMode, id, req.ip, req.networkAliases ?? []);
        endpoints.push({ net, ip: ep.IPAddress });
        record.NetworkSettings = { Networks: { [net.Name]: ep } };
        record.HostConfig.NetworkMode = net.Name;
      } else if (record.HostConfig.NetworkMode.startsWith('container:')) {
        // Resolve the name now, as docker records the container's ID.
        const target = this.get(record.HostConfig.NetworkMode.slice('container:'.length));
        record.HostConfig.NetworkMode = `container:${target.record.Id}`;
        if (req.ip || req.networkAliases?.length) throw new BerthError('--ip and --network-alias cannot be used with --network container:NAME');
      } else if (req.ip || req.networkAliases?.length) {
        throw new BerthError('--ip and --network-alias need a user-defined network (berth network create NAME, then --network NAME)');
      }
      // The upper dir's own mode becomes the mode of the container's "/":
      // 0755 so that non-root users inside can reach anything at all.
      this.images.snapshots.ensureInitLayer(); // only once the request is known to be good
      fs.mkdirSync(path.join(bundle, 'upper'), { mode: 0o755 });
      fs.mkdirSync(path.join(bundle, 'work'), { mode: 0o700 });
      fs.mkdirSync(path.join(bundle, 'merged'), { mode: 0o755 });
      writeEtcFiles(bundle, record);
      writeJsonAtomic(path.join(bundle, 'config.json'), record, true); // the container exists once this is on disk
      return { record, shim: undefined, state: stateOf(undefined), bundle };
    } catch (e) {
      for (const ep of endpoints) this.networks.release(ep.net, ep.ip, id);
      for (const v of anonymous) this.volumes.remove(v, true);
      releaseName(this.paths.names, name, id);
      fs.rmSync(bundle, { recursive: true, force: true });
      throw e;
    }
  }

  // Starts a created or exited container. With DETACHED the shim runs on its
  // own; otherwise the caller is attached until it calls detach().
  async start(ref: string | Container, attach: AttachOptions = DETACHED): Promise<ShimHandle & { container: Container }> {
    const c = typeof ref === 'string' ? this.get(ref) : ref;
    if (c.state.Running) throw new BerthError(`container ${c.record.Name} is already running`, 'conflict');
    if (c.shim) {
      // overlayfs wants an empty work dir each time it mounts an upper dir.
      fs.rmSync(path.join(c.bundle, 'work'), { recursive: true, force: true });
      fs.mkdirSync(path.join(c.bundle, 'work'), { mode: 0o700 });
    }
    const cfgFile = path.join(c.bundle, 'shim.cfg');
    fs.writeFileSync(cfgFile, this.shimConfig.forRun(c));
    this.attachments.refreshHosts(Object.values(c.record.NetworkSettings?.Networks ?? {}).map((e) => e.NetworkID));
    const handle = await startShim('run', cfgFile, attach);
    if (attach === DETACHED) handle.detach();
    return { ...handle, container: c };
  }

  async run(req: CreateRequest, attach: AttachOptions): Promise<ShimHandle & { container: Container }> {
    return this.start(await this.create(req), attach);
  }

  signal(ref: string | Container, signal: string | number): Container {
    const c = typeof ref === 'string' ? this.get(ref) : ref;
    if (!c.state.Running || !c.shim) throw new BerthError(`Cannot kill container: ${c.record.Name}: container ${c.record.Id.slice(0, 12)} is not running`, 'conflict');
    const sig = typeof signal === 'number' ? signal : parseSignal(signal);
    if (!native().signalProcess(c.shim.Pid, c.shim.PidStart, sig)) {
      throw new BerthError(`Cannot kill container: ${c.record.Name}: its process is already gone`, 'conflict');
    }
    return c;
  }

  private trySignal(c: Container, signal: string): void {
    try {
      this.signal(c, signal);
    } catch {
      /* exited meanwhile */
    }
  }

  // SIGTERM (or the image's STOPSIGNAL), then SIGKILL after timeoutSec.
  async stop(ref: string, timeoutSec = 10): Promise<Container> {
    const c = this.get(ref);
    if (!c.state.Running) return c;
    this.trySignal(c, c.record.Config.StopSignal ?? 'SIGTERM');
    if (!(await this.waitStopped(c.record.Id, timeoutSec * 1000))) {
      this.trySignal(c, 'SIGKILL');
      await this.waitStopped(c.record.Id);
    }
    return c;
  }

  async restart(ref: string, timeoutSec = 10): Promise<Container> {
    const c = await this.stop(ref, timeoutSec);
    const fresh = this.get(c.record.Id);
    if (!fresh.record.HostConfig.AutoRemove) await this.start(fresh);
    return fresh;
  }

  // With volumes=true (rm -v) the container's anonymous volumes go too;
  // named volumes always stay.
  // The record goes first: the bundle is renamed into the trash in one
  // step, so a remove killed at any point leaves either the whole container
  // or none; then its name, cgroup and addresses are let go, and the trash
  // emptied. What a kill leaves of those, the next start lets go.
  remove(ref: string, force = false, volumes = false): Promise<Container> {
    return during(this.paths, 'rm', () => this.removeLeased(ref, force, volumes));
  }

  private async removeLeased(ref: string, force: boolean, volumes: boolean): Promise<Container> {
    const c = this.get(ref);
    if (c.state.Running) {
      if (!force) {
        throw new BerthError(`You cannot remove a running container ${c.record.Id}. Stop the container before attempting removal or force remove (berth rm -f)`, 'conflict');
      }
      this.trySignal(c, 'SIGKILL');
      await this.waitStopped(c.record.Id, 10000);
    }
    const anonymous = volumes ? anonymousVolumes(this.volumes, c.record) : [];
    const doomed = toTrash(this.paths, c.bundle);
    releaseName(this.paths.names, c.record.Name, c.record.Id);
    if (this.paths.cgroupParent) native().cgroupRemove(this.paths.cgroupParent, c.record.Id);
    const netIds = this.attachments.releaseAll(c.record);
    if (doomed) fs.rmSync(doomed, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    for (const v of anonymous) {
      try {
        this.volumes.remove(v);
      } catch {
        /* another container mounts it (--volumes-from): it stays */
      }
    }
    this.attachments.refreshHosts(netIds);
    return c;
  }

  // docker update: new limits for a container, written into its cgroup at
  // once when it runs and kept for its next start. A limit the kernel
  // refuses (memory below what the container uses) changes nothing.
  update(ref: string, host: Partial<HostConfig>): Container {
    const c = this.get(ref);
    const h = c.record.HostConfig;
    refuseUndelegatedLimits(this.paths, { ...h, ...host });
    if (c.state.Running) {
      const problem = native().cgroupUpdate(this.paths.cgroupParent, c.record.Id, {
        memory: host.Memory,
        memorySwap: host.MemorySwap ?? (host.Memory ? h.MemorySwap : undefined),
        memoryReservation: host.MemoryReservation,
        cpuQuota: host.NanoCpus ? Math.round((host.NanoCpus / 1e9) * 100000) : undefined,
        cpuPeriod: host.NanoCpus ? 100000 : undefined,
        cpuShares: host.CpuShares,
        pidsLimit: host.PidsLimit,
        blkioWeight: host.BlkioWeight,
        cpusetCpus: host.CpusetCpus,
      });
      if (problem) throw new BerthError(`Cannot update container ${c.record.Name}: ${problem}`, 'conflict');
    }
    Object.assign(h, host);
    writeJsonAtomic(path.join(c.bundle, 'config.json'), c.record);
    return c;
  }

  async wait(ref: string): Promise<number> {
    const c = this.get(ref);
    await this.waitStopped(c.record.Id);
    const after = this.lookup.load(c.record.Id);
    return after ? after.state.ExitCode : c.state.ExitCode;
  }

  async exec(ref: string, req: ExecRequest, attach: AttachOptions): Promise<ShimHandle> {
    const c = this.get(ref);
    if (!c.state.Running || !c.shim) throw new BerthError(`container ${c.record.Id.slice(0, 12)} is not running; start it with \`berth start ${c.record.Name}\``, 'conflict');
    // Unique within the container's own bundle, which only this user can reach.
    const file = path.join(c.bundle, `exec-${process.pid}-${process.hrtime.bigint()}.cfg`);
    fs.writeFileSync(file, this.shimConfig.forExec(c, req), { mode: 0o600 });
    try {
      return await startShim('exec', file, attach);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  // ---- reading a container: loaded on first use -------------------------

  inspect(ref: string): Record<string, unknown> {
    return (require('./inspect') as typeof import('./inspect')).containerInspect(this.get(ref));
  }

  commit(ref: string, req: CommitRequest): Promise<Image> {
    return during(this.paths, 'commit', () => (require('./commit') as typeof import('./commit')).commitContainer(this.images, this.get(ref), req));
  }

  changes(ref: string): Change[] {
    return (require('./commit') as typeof import('./commit')).containerChanges(this.images, this.get(ref));
  }

  export(ref: string, out: NodeJS.WritableStream): Promise<void> {
    return (require('./commit') as typeof import('./commit')).exportContainer(this.images, this.get(ref), out);
  }

  logs(c: Container, opts: LogOptions): AsyncGenerator<LogEntry> {
    return (require('./logs') as typeof import('./logs')).readLogs(c, opts);
  }

  top(c: Container): ProcessRow[] {
    if (!c.state.Running) throw new BerthError(`container ${c.record.Id.slice(0, 12)} is not running`, 'conflict');
    return (require('./observe') as typeof import('./observe')).topProcesses(this.paths, c);
  }

  // The CDI devices the container's last start resolved.
  cdiDevices(c: Container): string[] {
    return (require('./gpu-use') as typeof import('./gpu-use')).startedDevices(c);
  }

  // Watches a running container's GPU memory until stop() (for its
  // experiment record); undefined for a container without GPUs.
  watchGpus(c: Container): { stop(): GpuRecord[] } | undefined {
    const { GpuPeak, gpuUse, hasGpus, startedDevices } = require('./gpu-use') as typeof import('./gpu-use');
    if (!hasGpus(startedDevices(c))) return undefined;
    const { containerPids } = require('./observe') as typeof import('./observe');
    return new GpuPeak(() => gpuUse(c, containerPids(this.paths, c)));
  }

  stats(c: Container, previous?: { cpuNs: number; at: number }): StatsSample | undefined {
    return (require('./observe') as typeof import('./observe')).sampleStats(this.paths, c, previous);
  }
}

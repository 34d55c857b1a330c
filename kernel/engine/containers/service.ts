// Container lifecycle: create, start, stop, kill, remove, wait, exec.
// The engine writes a container's config.json; its berth-shim writes
// state.json; both live in BUNDLE = ROOT/containers/ID.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { BerthError, NotFoundError } from '../errors';
import { ImageStore } from '../images/store';
import { hexOf } from '../images/digest';
import { native, shimPath } from '../native';
import { readJson, writeJsonAtomic } from '../store/files';
import { StorePaths } from '../store/paths';
import { buildRecord, newContainerId, writeEtcFiles, writeHosts } from './create';
import { NetworkStore } from '../network/store';
import { NetworkRecord } from '../network/types';
import { resolveMounts, shimMountValues } from './mounts';
import { VolumeStore } from '../volumes/store';
import { isAnonymous } from '../volumes/types';
import { claimName, lookupName, releaseName, validateName } from './names';
import { encodeShimConfig, ShimHandle, startShim } from './shim';
import { parseSignal } from './signals';
import {
  AttachOptions,
  Container,
  ContainerRecord,
  ContainerState,
  CreateRequest,
  DETACHED,
  ShimState,
} from './types';

const NEVER = '0001-01-01T00:00:00Z';

export interface ExecRequest {
  command: string[];
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  interactive: boolean;
}

function isShimAlive(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'berth-shim';
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ContainerService {
  readonly volumes: VolumeStore;

  constructor(readonly paths: StorePaths, readonly images: ImageStore, readonly networks: NetworkStore) {
    this.volumes = new VolumeStore(paths, (name) => this.usersOfVolume(name));
  }

  // The containers, running or not, whose mounts name a volume.
  usersOfVolume(name: string): string[] {
    return this.list(true).filter((c) => (c.record.Mounts ?? []).some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.record.Id.slice(0, 12));
  }

  private isBridged(c: Container | ContainerRecord): boolean {
    const mode = ('record' in c ? c.record : c).HostConfig.NetworkMode;
    return mode !== 'none' && mode !== 'host' && !mode.startsWith('container:');
  }

  // --network container:NAME joins that running container's namespace.
  private joinPairs(r: ContainerRecord): Array<[string, string | number]> {
    const mode = r.HostConfig.NetworkMode;
    if (!mode.startsWith('container:')) return [];
    let target: Container;
    try {
      target = this.get(mode.slice('container:'.length));
    } catch {
      throw new BerthError(`cannot join the network of container ${mode.slice(10)}: it no longer exists`);
    }
    if (!target.state.Running || !target.shim) throw new BerthError(`cannot join the network of a non-running container: ${target.record.Name}; start it first`);
    return [['net-join-pid', target.shim.Pid], ['net-join-start', target.shim.PidStart]];
  }

  // Rewrites the hosts file of every container on the networks of c.
  private refreshHosts(networkIds: string[]): void {
    if (!networkIds.length) return;
    const all = this.list(true).filter((x) => x.record.NetworkSettings);
    for (const c of all) {
      const mine = Object.entries(c.record.NetworkSettings!.Networks);
      if (!mine.some(([, e]) => networkIds.includes(e.NetworkID))) continue;
      const peers: Array<{ ip: string; names: string[] }> = [];
      for (const [netName, e] of mine) {
        if (netName === 'bridge') continue; // the default bridge has no name resolution, as in docker
        for (const other of all) {
          if (other.record.Id === c.record.Id) continue;
          const oe = other.record.NetworkSettings!.Networks[netName];
          if (oe && oe.NetworkID === e.NetworkID) peers.push({ ip: oe.IPAddress, names: [other.record.Name, ...oe.Aliases] });
        }
      }
      try {
        writeHosts(c.bundle, c.record, peers);
      } catch {
        /* removed meanwhile */
      }
    }
  }

  bundle(id: string): string {
    return path.join(this.paths.containers, id);
  }

  // ---- reading -----------------------------------------------------------

  private load(id: string): Container | undefined {
    const bundle = this.bundle(id);
    const record = readJson<ContainerRecord>(path.join(bundle, 'config.json'));
    if (!record) return undefined;
    const shim = readJson<ShimState>(path.join(bundle, 'state.json'));
    return { record, shim, state: this.stateOf(shim), bundle };
  }

  private stateOf(shim: ShimState | undefined): ContainerState {
    const s: ContainerState = {
      Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: 0, ExitCode: 0, Error: '', StartedAt: NEVER, FinishedAt: NEVER,
    };
    if (!shim) return s;
    s.ExitCode = shim.ExitCode;
    s.Error = shim.Error;
    s.OOMKilled = shim.OOMKilled;
    s.StartedAt = shim.StartedAt || NEVER;
    s.FinishedAt = shim.FinishedAt || NEVER;
    if (shim.Status === 'running') {
      if (isShimAlive(shim.ShimPid)) {
        s.Status = 'running';
        s.Running = true;
        s.Pid = shim.Pid;
      } else {
        // The supervisor is gone (host reboot, kill -9): docker reports 255.
        s.Status = 'exited';
        s.ExitCode = 255;
        s.Error = 'the container supervisor (berth-shim) is gone';
      }
    } else if (shim.Status === 'exited') {
      s.Status = 'exited';
    }
    return s;
  }

  listIds(): string[] {
    try {
      return fs.readdirSync(this.paths.containers).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  list(all: boolean): Container[] {
    const out: Container[] = [];
    for (const id of this.listIds()) {
      const c = this.load(id);
      if (c && (all || c.state.Running)) out.push(c);
    }
    return out.sort((a, b) => b.record.Created.localeCompare(a.record.Created));
  }

  // A name, a full ID or a unique ID prefix, as docker accepts.
  get(ref: string): Container {
    const name = ref.replace(/^\//, '');
    const byName = lookupName(this.paths.names, name);
    const candidates = byName ? [byName] : this.listIds().filter((id) => id.startsWith(ref));
    if (candidates.length > 1) throw new BerthError(`multiple containers match the ID prefix "${ref}"; give more characters`, 1);
    const c = candidates.length === 1 ? this.load(candidates[0]) : undefined;
    if (!c) throw new NotFoundError(`No such container: ${ref}; list containers with \`berth ps -a\``);
    return c;
  }

  // ---- lifecycle ---------------------------------------------------------

  async create(req: CreateRequest): Promise<Container> {
    if (req.name !== undefined) validateName(req.name);
    const image = this.images.resolve(req.image);
    const manifest = this.images.readBlobJson<{ layers: { digest: string }[] }>(image.manifestDigest);
    for (let i = 0; i < image.chainIds.length; i++) {
      if (!fs.existsSync(this.images.snapshotDir(image.chainIds[i]))) {
        await this.images.ensureSnapshot(image.chainIds[i], manifest.layers[i].digest);
      }
    }
    const id = newContainerId();
    const name = claimName(this.paths.names, id, req.name);
    const bundle = this.bundle(id);
    const endpoints: Array<{ net: NetworkRecord; ip: string }> = [];
    let anonymous: string[] = [];
    try {
      const record = buildRecord(id, name, req, image);
      const imageVolumes = req.skipImageVolumes ? [] : Object.keys(image.config.config.Volumes ?? {});
      const resolved = resolveMounts(req.mounts ?? [], imageVolumes, this.volumes);
      record.Mounts = resolved.mounts;
      anonymous = resolved.anonymous;
      if (this.isBridged(record)) {
        let net: NetworkRecord;
        try {
          net = this.networks.get(record.HostConfig.NetworkMode);
        } catch (e) {
          throw new BerthError(`network ${record.HostConfig.NetworkMode} not found; create it with \`berth network create ${record.HostConfig.NetworkMode}\` or list them with \`berth network ls\``);
        }
        let ep;
        try {
          this.networks.up(net); // the bridge exists (or is refused) before anything is recorded
          ep = this.networks.allocate(net, id, req.ip);
        } catch (e) {
          throw e instanceof BerthError ? new BerthError(e.message) : e; // run/create errors exit 125
        }
        endpoints.push({ net, ip: ep.IPAddress });
        ep.Aliases = net.Name === 'bridge' ? [] : [...(req.networkAliases ?? []), id.slice(0, 12)];
        record.NetworkSettings = { Networks: { [net.Name]: ep } };
        record.HostConfig.NetworkMode = net.Name;
      } else if (record.HostConfig.NetworkMode.startsWith('container:')) {
        // Resolve the name now, as docker records the container's ID.
        let target: Container;
        try {
          target = this.get(record.HostConfig.NetworkMode.slice('container:'.length));
        } catch (e) {
          throw e instanceof BerthError ? new BerthError(e.message) : e; // run/create errors exit 125
        }
        record.HostConfig.NetworkMode = `container:${target.record.Id}`;
        if (req.ip || req.networkAliases?.length) throw new BerthError('--ip and --network-alias cannot be used with --network container:NAME');
      } else if (req.ip || req.networkAliases?.length) {
        throw new BerthError('--ip and --network-alias need a user-defined network (berth network create NAME, then --network NAME)');
      }
      // The upper dir's own mode becomes the mode of the container's "/":
      // 0755 so that non-root users inside can reach anything at all.
      this.images.ensureInitLayer(); // only once the request is known to be good
      fs.mkdirSync(path.join(bundle, 'upper'), { recursive: true, mode: 0o755 });
      fs.mkdirSync(path.join(bundle, 'work'), { mode: 0o700 });
      fs.mkdirSync(path.join(bundle, 'merged'), { mode: 0o755 });
      writeEtcFiles(bundle, record);
      writeJsonAtomic(path.join(bundle, 'config.json'), record);
      return { record, shim: undefined, state: this.stateOf(undefined), bundle };
    } catch (e) {
      for (const ep of endpoints) this.networks.release(ep.net, ep.ip, id);
      for (const v of anonymous) this.volumes.remove(v, true);
      releaseName(this.paths.names, name, id);
      fs.rmSync(bundle, { recursive: true, force: true });
      throw e;
    }
  }

  private shimConfig(c: Container): Buffer {
    const r = c.record;
    const h = r.HostConfig;
    const pairs: Array<[string, string | number | boolean | undefined]> = [
      ['id', r.Id],
      ['bundle', c.bundle],
      ['layerdir', this.paths.snapshots],
      ['lower', path.basename(this.paths.initLayer)],
      ...[...r.Layers].reverse().map((l): [string, string] => ['lower', hexOf(l)]),
      ['hostname', r.Config.Hostname],
      ...[r.Path, ...r.Args].map((a): [string, string] => ['arg', a]),
      ...r.Config.Env.map((e): [string, string] => ['env', e]),
      ['cwd', r.Config.WorkingDir || '/'],
      ['user', r.Config.User],
      ['network', this.isBridged(r) ? 'bridge' : h.NetworkMode.startsWith('container:') ? 'container' : h.NetworkMode],
      ...this.joinPairs(r),
      ...this.networkPairs(r),
      ['cgroup-parent', this.paths.cgroupParent],
      ['memory', h.Memory || undefined],
      ['memory-swap', h.MemorySwap || undefined],
      ['cpu-quota', h.NanoCpus ? Math.round(h.NanoCpus / 1e9 * 100000) : undefined],
      ['cpu-period', h.NanoCpus ? 100000 : undefined],
      ['cpu-shares', h.CpuShares || undefined],
      ['pids-limit', h.PidsLimit > 0 ? h.PidsLimit : undefined],
      ...h.Ulimits.map((u): [string, string] => ['rlimit', `${u.Name}=${u.Soft}:${u.Hard}`]),
      ...shimMountValues(r.Mounts ?? []).map((m): [string, string] => ['mount', m]),
      ['release', path.join(this.paths.names, r.Name)],
      // --rm takes the container's anonymous volumes with it, as docker does.
      ...this.anonymousVolumes(r).map((v): [string, string] => ['release-dir', path.dirname(this.volumes.dataDir(v))]),
      ...Object.values(r.NetworkSettings?.Networks ?? {}).map((e): [string, string] => ['release', this.networks.addressFile(e.NetworkID, e.IPAddress)]),
      ['tty', r.Config.Tty],
      ['stdin', r.Config.OpenStdin],
      ['readonly', h.ReadonlyRootfs],
      ['init', h.Init],
      ['rm', h.AutoRemove],
    ];
    return encodeShimConfig(pairs);
  }

  private anonymousVolumes(r: ContainerRecord): string[] {
    return (r.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => this.volumes.find(m.Name!)).filter((v) => v && isAnonymous(v)).map((v) => v!.Name);
  }

  // The host end of a container's veth on its i-th network (IFNAMSIZ: 15).
  private vethName(id: string, i: number): string {
    return `vb${id.slice(0, 10)}${i}`;
  }

  private netEntry(r: ContainerRecord, name: string, i: number): string {
    const net = this.networks.get(name);
    this.networks.up(net);
    const e = r.NetworkSettings!.Networks[name];
    return [net.Bridge, this.vethName(r.Id, i), `eth${i}`, `${e.IPAddress}/${e.IPPrefixLen}`, e.Gateway].join('|');
  }

  private networkPairs(r: ContainerRecord): Array<[string, string]> {
    const names = Object.keys(r.NetworkSettings?.Networks ?? {});
    if (!names.length) return [];
    return [
      ...names.map((n, i): [string, string] => ['net', this.netEntry(r, n, i)]),
      ...Object.entries(r.HostConfig.PortBindings ?? {}).flatMap(([port, list]) =>
        list.map((b): [string, string] => ['publish', `${b.HostIp || '127.0.0.1'}:${b.HostPort || '0'}:${port}`])),
    ];
  }

  // network connect: one more network for a created or running container.
  connect(netRef: string, ref: string, opts: { aliases: string[]; ip?: string }): void {
    const net = this.networks.get(netRef);
    const c = this.get(ref);
    const r = c.record;
    if (!this.isBridged(r)) throw new BerthError(`container ${r.Name} cannot be connected to network ${net.Name}: it uses network mode ${r.HostConfig.NetworkMode}`, 1);
    if (r.NetworkSettings?.Networks[net.Name]) throw new BerthError(`endpoint with name ${r.Name} already exists in network ${net.Name}`, 1);
    this.networks.up(net);
    const ep = this.networks.allocate(net, r.Id, opts.ip);
    ep.Aliases = net.Name === 'bridge' ? [] : [...opts.aliases, r.Id.slice(0, 12)];
    r.NetworkSettings = { Networks: { ...(r.NetworkSettings?.Networks ?? {}), [net.Name]: ep } };
    if (c.state.Running && c.shim) {
      const i = Object.keys(r.NetworkSettings.Networks).length - 1;
      const file = path.join(c.bundle, `netattach-${randomBytes(4).toString('hex')}.cfg`);
      fs.writeFileSync(file, encodeShimConfig([['net', this.netEntry(r, net.Name, i)], ['target-pid', c.shim.Pid], ['target-start', c.shim.PidStart]]));
      const res = spawnSync(shimPath, ['netattach', file], { encoding: 'utf8' });
      fs.rmSync(file, { force: true });
      if (res.status !== 0) {
        this.networks.release(net, ep.IPAddress, r.Id);
        throw new BerthError(`cannot connect ${r.Name} to ${net.Name}: ${(res.stderr || '').trim()}`, 1);
      }
    }
    writeJsonAtomic(path.join(c.bundle, 'config.json'), r);
    this.refreshHosts([net.Id]);
  }

  // network disconnect: the container leaves one network (its interface goes at once).
  disconnect(netRef: string, ref: string): void {
    const net = this.networks.get(netRef);
    const c = this.get(ref);
    const r = c.record;
    const names = Object.keys(r.NetworkSettings?.Networks ?? {});
    const i = names.indexOf(net.Name);
    if (i < 0) throw new BerthError(`container ${r.Name} is not connected to network ${net.Name}`, 1);
    if (c.state.Running) native().deleteLink(this.vethName(r.Id, i)); // its peer in the container goes with it
    const ep = r.NetworkSettings!.Networks[net.Name];
    delete r.NetworkSettings!.Networks[net.Name];
    this.networks.release(net, ep.IPAddress, r.Id);
    writeJsonAtomic(path.join(c.bundle, 'config.json'), r);
    this.refreshHosts([net.Id]);
  }

  // Starts a created or exited container. With DETACHED the shim runs on its
  // own; otherwise the caller is attached until it calls detach().
  async start(ref: string | Container, attach: AttachOptions = DETACHED): Promise<ShimHandle & { container: Container }> {
    const c = typeof ref === 'string' ? this.get(ref) : ref;
    if (c.state.Running) throw new BerthError(`container ${c.record.Name} is already running`, 1);
    if (c.shim) {
      // overlayfs wants an empty work dir each time it mounts an upper dir.
      fs.rmSync(path.join(c.bundle, 'work'), { recursive: true, force: true });
      fs.mkdirSync(path.join(c.bundle, 'work'), { mode: 0o700 });
    }
    const cfgFile = path.join(c.bundle, 'shim.cfg');
    fs.writeFileSync(cfgFile, this.shimConfig(c));
    const netIds = Object.values(c.record.NetworkSettings?.Networks ?? {}).map((e) => e.NetworkID);
    this.refreshHosts(netIds);
    const handle = await startShim('run', cfgFile, attach);
    if (attach === DETACHED) handle.detach();
    return { ...handle, container: c };
  }

  async run(req: CreateRequest, attach: AttachOptions): Promise<ShimHandle & { container: Container }> {
    const c = await this.create(req);
    return this.start(c, attach);
  }

  signal(ref: string | Container, signal: string | number): Container {
    const c = typeof ref === 'string' ? this.get(ref) : ref;
    if (!c.state.Running || !c.shim) throw new BerthError(`Cannot kill container: ${c.record.Name}: container ${c.record.Id.slice(0, 12)} is not running`, 1);
    const sig = typeof signal === 'number' ? signal : parseSignal(signal);
    if (!native().signalProcess(c.shim.Pid, c.shim.PidStart, sig)) {
      throw new BerthError(`Cannot kill container: ${c.record.Name}: its process is already gone`, 1);
    }
    return c;
  }

  // Resolves once the container is no longer running (false on timeout).
  async waitStopped(id: string, timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      const c = this.load(id);
      if (!c || !c.state.Running) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 50);
    }
  }

  // SIGTERM (or the image's STOPSIGNAL), then SIGKILL after timeoutSec.
  async stop(ref: string, timeoutSec = 10): Promise<Container> {
    const c = this.get(ref);
    if (!c.state.Running) return c;
    try {
      this.signal(c, c.record.Config.StopSignal ?? 'SIGTERM');
    } catch {
      /* exited meanwhile */
    }
    if (!(await this.waitStopped(c.record.Id, timeoutSec * 1000))) {
      try {
        this.signal(c, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
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
  async remove(ref: string, force = false, volumes = false): Promise<Container> {
    const c = this.get(ref);
    if (c.state.Running) {
      if (!force) {
        throw new BerthError(`You cannot remove a running container ${c.record.Id}. Stop the container before attempting removal or force remove (berth rm -f)`, 1);
      }
      try {
        this.signal(c, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
      await this.waitStopped(c.record.Id, 10000);
    }
    releaseName(this.paths.names, c.record.Name, c.record.Id);
    native().cgroupRemove(this.paths.cgroupParent, c.record.Id);
    const netIds: string[] = [];
    for (const [name, e] of Object.entries(c.record.NetworkSettings?.Networks ?? {})) {
      let net: NetworkRecord | undefined;
      try {
        net = this.networks.get(name);
      } catch {
        /* network already gone */
      }
      this.networks.release(net, e.IPAddress, c.record.Id);
      netIds.push(e.NetworkID);
    }
    const anonymous = volumes ? this.anonymousVolumes(c.record) : [];
    fs.rmSync(c.bundle, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    for (const v of anonymous) {
      try {
        this.volumes.remove(v);
      } catch {
        /* another container mounts it (--volumes-from): it stays */
      }
    }
    this.refreshHosts(netIds);
    return c;
  }

  async wait(ref: string): Promise<number> {
    const c = this.get(ref);
    await this.waitStopped(c.record.Id);
    const after = this.load(c.record.Id);
    return after ? after.state.ExitCode : c.state.ExitCode;
  }

  async exec(ref: string, req: ExecRequest, attach: AttachOptions): Promise<ShimHandle> {
    const c = this.get(ref);
    if (!c.state.Running || !c.shim) throw new BerthError(`container ${c.record.Id.slice(0, 12)} is not running; start it with \`berth start ${c.record.Name}\``, 1);
    const env = new Map<string, string>();
    for (const e of [...c.record.Config.Env, ...req.env]) env.set(e.split('=')[0], e);
    const cfg = encodeShimConfig([
      ['id', c.record.Id],
      ['cgroup-parent', this.paths.cgroupParent],
      ['target-pid', c.shim.Pid],
      ['target-start', c.shim.PidStart],
      ...req.command.map((a): [string, string] => ['arg', a]),
      ...[...env.values()].map((e): [string, string] => ['env', e]),
      ['cwd', req.workdir ?? (c.record.Config.WorkingDir || '/')],
      ['user', req.user ?? c.record.Config.User],
      ['tty', req.tty],
      ['stdin', req.interactive],
    ]);
    const file = path.join(c.bundle, `exec-${randomBytes(6).toString('hex')}.cfg`);
    fs.writeFileSync(file, cfg, { mode: 0o600 });
    try {
      return await startShim('exec', file, attach);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
}

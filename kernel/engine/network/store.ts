// Networks and their address management. A network is a JSON record; each
// address in use is a file named after it, created with O_EXCL, so no two
// processes can hand out the same address and removal frees it for good.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, NotFoundError } from '../errors';
import { native, shimPath } from '../native';
import { readJson, withLock, writeJsonAtomic } from '../store/files';
import { checkName } from '../names';
import { ensureOwnTmp } from '../store/leases';
import { StorePaths } from '../store/paths';
import { contains, parseSubnet, toInt, toIp } from './ipv4';
import { BUILTIN, Endpoint, NetworkRecord } from './types';

// Outbound traffic from a bridge network leaves through the host's address
// (masquerade), where the host allows it: with iptables present and root.
// An internal network gets none, and no default route either.
function masquerade(rec: NetworkRecord, add: boolean): void {
  const subnet = rec.IPAM.Config[0].Subnet;
  const rule = ['-t', 'nat', 'POSTROUTING', '-s', subnet, '!', '-o', rec.Bridge, '-j', 'MASQUERADE', '-m', 'comment', '--comment', `berth ${rec.Name}`];
  const run = (op: string) => (require('child_process') as typeof import('child_process')).spawnSync('iptables', [...rule.slice(0, 2), op, ...rule.slice(2)], { stdio: 'ignore' }).status === 0;
  try {
    if (add) {
      if (!run('-C')) run('-A');
      fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    } else {
      while (run('-C')) run('-D');
    }
  } catch {
    /* no iptables, or not allowed here: containers still reach each other */
  }
}

export interface CreateNetworkRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels?: Record<string, string>;
}

export class NetworkStore {
  constructor(private readonly paths: StorePaths, private readonly env: NodeJS.ProcessEnv = process.env) {}

  private get dir(): string {
    return path.join(this.paths.root, 'networks');
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  private ipDir(id: string): string {
    return path.join(this.dir, id, 'ips');
  }

  list(): NetworkRecord[] {
    this.ensureDefault();
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.json')).map((f) => readJson<NetworkRecord>(path.join(this.dir, f))!).filter(Boolean)
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  // The default "bridge" network, made on first use. Its subnet and device
  // are configurable so they cannot collide with the host's own networks.
  // Checked again under the lock: two first runs at once (two notebooks)
  // must not both write one, or each would hand out the same addresses.
  private ensureDefault(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const hasDefault = () => fs.readdirSync(this.dir).some((f) => f.endsWith('.json') && readJson<NetworkRecord>(path.join(this.dir, f))?.Name === 'bridge');
    if (hasDefault()) return;
    withLock(this.lockFile, () => {
      if (hasDefault()) return;
      const subnet = this.env.BERTH_BRIDGE_SUBNET || '172.30.0.0/16';
      this.write('bridge', { subnet, internal: false }, this.env.BERTH_BRIDGE_NAME || 'berth0');
    });
  }

  private get lockFile(): string {
    return path.join(this.dir, 'networks.lock');
  }

  private write(name: string, req: { subnet: string; gateway?: string; internal: boolean; labels?: Record<string, string> }, bridge?: string): NetworkRecord {
    const s = parseSubnet(req.subnet);
    const gateway = req.gateway ?? toIp(s.base + 1);
    if (!contains(s, gateway)) throw new BerthError(`gateway ${gateway} is not in subnet ${req.subnet}`);
    const id = (require('crypto') as typeof import('crypto')).randomBytes(32).toString('hex');
    const rec: NetworkRecord = {
      Name: name,
      Id: id,
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: 'bridge',
      Internal: req.internal,
      Bridge: bridge ?? `br-${id.slice(0, 12)}`,
      IPAM: { Driver: 'default', Config: [{ Subnet: `${toIp(s.base)}/${s.prefix}`, Gateway: gateway }] },
      Labels: req.labels ?? {},
    };
    fs.mkdirSync(this.ipDir(id), { recursive: true });
    writeJsonAtomic(this.file(id), rec);
    return rec;
  }

  // Under the lock, so that two creates cannot take one name or one subnet.
  create(req: CreateNetworkRequest): NetworkRecord {
    checkName('network', req.name);
    this.ensureDefault();
    return withLock(this.lockFile, () => this.createLocked(req));
  }

  private createLocked(req: CreateNetworkRequest): NetworkRecord {
    if (BUILTIN.has(req.name) || this.list().some((n) => n.Name === req.name)) throw new BerthError(`network with name ${req.name} already exists`, 'conflict');
    let subnet = req.subnet;
    const taken = this.list().map((n) => parseSubnet(n.IPAM.Config[0].Subnet));
    if (subnet) {
      const s = parseSubnet(subnet);
      if (taken.some((t) => s.base < t.base + t.size && t.base < s.base + s.size)) throw new BerthError(`subnet ${subnet} overlaps an existing Berth network; pick another with --subnet`, 'conflict');
    } else {
      // The next free /24 in 172.31.0.0/16 (configurable).
      const pool = parseSubnet(this.env.BERTH_NETWORK_POOL || '172.31.0.0/16');
      for (let b = pool.base; b < pool.base + pool.size; b += 256) {
        if (!taken.some((t) => b < t.base + t.size && t.base < b + 256)) {
          subnet = `${toIp(b)}/24`;
          break;
        }
      }
      if (!subnet) throw new BerthError('no free subnet left in the pool; remove unused networks (berth network prune) or give --subnet', 'conflict');
    }
    return this.write(req.name, { subnet, gateway: req.gateway, internal: req.internal, labels: req.labels });
  }

  get(ref: string): NetworkRecord {
    const all = this.list();
    const found = all.find((n) => n.Name === ref) ?? all.filter((n) => n.Id.startsWith(ref)).reduce<NetworkRecord | undefined>((acc, n, _i, arr) => (arr.length === 1 ? n : acc), undefined);
    if (!found) throw new NotFoundError(`network ${ref} not found; list networks with \`berth network ls\``);
    return found;
  }

  // The file that holds an address while a container has it.
  addressFile(networkId: string, ip: string): string {
    return path.join(this.ipDir(networkId), ip);
  }

  users(rec: NetworkRecord): string[] {
    try {
      return fs.readdirSync(this.ipDir(rec.Id)).map((ip) => fs.readFileSync(path.join(this.ipDir(rec.Id), ip), 'utf8'));
    } catch {
      return [];
    }
  }

  remove(ref: string): NetworkRecord {
    const rec = this.get(ref);
    if (rec.Name === 'bridge') throw new BerthError('bridge is a pre-defined network and cannot be removed', 'conflict');
    const users = this.users(rec);
    if (users.length) throw new BerthError(`error while removing network: network ${rec.Name} id ${rec.Id.slice(0, 12)} has active endpoints (${users.map((u) => u.slice(0, 12)).join(', ')}); remove those containers first`, 'conflict');
    this.deleteLink(rec.Bridge);
    if (!rec.Internal && !this.paths.rootless) masquerade(rec, false);
    fs.rmSync(path.join(this.dir, rec.Id), { recursive: true, force: true });
    fs.rmSync(this.file(rec.Id), { force: true });
    return rec;
  }

  // Takes an address for a container: the one asked for, or the lowest free.
  allocate(rec: NetworkRecord, containerId: string, wanted?: string): Endpoint {
    const cfg = rec.IPAM.Config[0];
    const s = parseSubnet(cfg.Subnet);
    const dir = this.ipDir(rec.Id);
    fs.mkdirSync(dir, { recursive: true });
    // The address file appears whole, holder and all: written aside, then
    // linked in (a link fails when the address is taken). A kill can leave
    // no empty address file that nobody would ever hand back.
    const claim = (ip: string) => {
      const aside = path.join(ensureOwnTmp(this.paths), `ip-${containerId.slice(0, 12)}-${ip}`);
      fs.writeFileSync(aside, containerId);
      try {
        fs.linkSync(aside, path.join(dir, ip));
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      } finally {
        fs.rmSync(aside, { force: true });
      }
    };
    let ip: string | undefined;
    if (wanted) {
      if (!contains(s, wanted) || wanted === cfg.Gateway) throw new BerthError(`address ${wanted} is not usable in network ${rec.Name} (${cfg.Subnet}, gateway ${cfg.Gateway})`);
      if (!claim(wanted)) throw new BerthError(`address ${wanted} is already in use on network ${rec.Name}`, 'conflict');
      ip = wanted;
    } else {
      const gw = toInt(cfg.Gateway);
      for (let n = s.base + 1; n < s.base + s.size - 1 && !ip; n++) if (n !== gw && claim(toIp(n))) ip = toIp(n);
      if (!ip) throw new BerthError(`network ${rec.Name} has no free address left`, 'conflict');
    }
    return { NetworkID: rec.Id, IPAddress: ip, IPPrefixLen: s.prefix, Gateway: rec.Internal ? '' : cfg.Gateway, MacAddress: macFor(ip), Aliases: [] };
  }

  release(rec: NetworkRecord | undefined, ip: string, containerId: string): void {
    if (!rec) return;
    const f = path.join(this.ipDir(rec.Id), ip);
    try {
      if (fs.readFileSync(f, 'utf8') === containerId) fs.unlinkSync(f);
    } catch {
      /* already free */
    }
  }

  // Makes the bridge device exist in this network namespace.
  // BERTH_NO_BRIDGES_IN_NETNS names a namespace (as /proc/self/ns/net reads,
  // "net:[4026531833]") where no bridge or veth may ever be added: the test
  // suite sets it to the machine's own.
  up(rec: NetworkRecord): void {
    // Rootless bridges are made by the shim, in the user's own network
    // namespace (see native/src/shim/rootless.h), never in this one.
    if (this.paths.rootless) return;
    const forbidden = this.env.BERTH_NO_BRIDGES_IN_NETNS;
    if (forbidden && fs.readlinkSync('/proc/self/ns/net') === forbidden) {
      throw new BerthError(`refusing to create bridge ${rec.Bridge} in the host's network namespace (BERTH_NO_BRIDGES_IN_NETNS); run this inside a network namespace (ip netns exec NAME ...)`, 'permission');
    }
    const fresh = !native().linkExists(rec.Bridge);
    native().ensureBridge(rec.Bridge, this.bridgeAddress(rec));
    if (fresh && !rec.Internal) masquerade(rec, true);
  }

  // The bridge's own address, the gateway of its subnet.
  bridgeAddress(rec: NetworkRecord): string {
    const cfg = rec.IPAM.Config[0];
    return `${cfg.Gateway}/${parseSubnet(cfg.Subnet).prefix}`;
  }

  // Deletes a bridge or a container's veth, wherever Berth keeps them: here,
  // or for a rootless user in the network namespace the shim enters.
  deleteLink(name: string): void {
    if (!this.paths.rootless) {
      if (native().linkExists(name)) native().deleteLink(name);
      return;
    }
    const r = (require('child_process') as typeof import('child_process')).spawnSync(shimPath, ['netdel', name], { encoding: 'utf8' });
    if (r.status !== 0) throw new BerthError(`cannot delete ${name}: ${(r.stderr || '').trim()}`, 'unavailable');
  }

  prune(inUse: (rec: NetworkRecord) => boolean): NetworkRecord[] {
    const removed: NetworkRecord[] = [];
    for (const n of this.list()) {
      if (n.Name === 'bridge' || inUse(n) || this.users(n).length) continue;
      removed.push(this.remove(n.Name));
    }
    return removed;
  }
}

// A container's address on a bridge, made from its IPv4 address as docker
// made them (02:42 and the four bytes): unique on the network, and locally
// administered so it never clashes with a real card's.
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

// A container's places on networks: the address it is given when created,
// network connect and disconnect while it lives, the addresses it gives
// back, and the hosts files of its peers, kept current on each change.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { shimPath } from '../native';
import { NetworkStore } from '../network/store';
import { Endpoint, NetworkRecord } from '../network/types';
import { writeJsonAtomic } from '../store/files';
import { writeHosts } from './create';
import { ContainerLookup } from './lookup';
import { encodeShimConfig } from './shim';
import { Container, ContainerRecord } from './types';

export function isBridged(c: Container | ContainerRecord): boolean {
  const mode = ('record' in c ? c.record : c).HostConfig.NetworkMode;
  return mode !== 'none' && mode !== 'host' && !mode.startsWith('container:');
}

// The host end of a container's veth on its i-th network (IFNAMSIZ: 15).
export function vethName(id: string, i: number): string {
  return `vb${id.slice(0, 10)}${i}`;
}

export class NetworkAttachments {
  constructor(private readonly lookup: ContainerLookup, readonly networks: NetworkStore) {}

  // The endpoint of a new container on its first network. The bridge
  // exists (or is refused) before anything is recorded.
  claim(netRef: string, id: string, ip: string | undefined, aliases: string[]): { net: NetworkRecord; ep: Endpoint } {
    let net: NetworkRecord;
    try {
      net = this.networks.get(netRef);
    } catch {
      throw new BerthError(`network ${netRef} not found; create it with \`berth network create ${netRef}\` or list them with \`berth network ls\``, 'not-found');
    }
    this.networks.up(net);
    const ep = this.networks.allocate(net, id, ip);
    ep.Aliases = net.Name === 'bridge' ? [] : [...aliases, id.slice(0, 12)];
    return { net, ep };
  }

  // One line of the shim's config for the container's i-th network.
  netEntry(r: ContainerRecord, name: string, i: number): string {
    const net = this.networks.get(name);
    this.networks.up(net);
    const e = r.NetworkSettings!.Networks[name];
    return [net.Bridge, vethName(r.Id, i), `eth${i}`, `${e.IPAddress}/${e.IPPrefixLen}`, e.Gateway, this.networks.bridgeAddress(net), e.MacAddress ?? ''].join('|');
  }

  // network connect: one more network for a created or running container.
  connect(netRef: string, ref: string, opts: { aliases: string[]; ip?: string }): void {
    const net = this.networks.get(netRef);
    const c = this.lookup.get(ref);
    const r = c.record;
    if (!isBridged(r)) throw new BerthError(`container ${r.Name} cannot be connected to network ${net.Name}: it uses network mode ${r.HostConfig.NetworkMode}`);
    if (r.NetworkSettings?.Networks[net.Name]) throw new BerthError(`endpoint with name ${r.Name} already exists in network ${net.Name}`, 'conflict');
    this.networks.up(net);
    const ep = this.networks.allocate(net, r.Id, opts.ip);
    ep.Aliases = net.Name === 'bridge' ? [] : [...opts.aliases, r.Id.slice(0, 12)];
    r.NetworkSettings = { Networks: { ...(r.NetworkSettings?.Networks ?? {}), [net.Name]: ep } };
    if (c.state.Running && c.shim) {
      const i = Object.keys(r.NetworkSettings.Networks).length - 1;
      const file = path.join(c.bundle, `netattach-${process.pid}-${process.hrtime.bigint()}.cfg`);
      fs.writeFileSync(file, encodeShimConfig([['net', this.netEntry(r, net.Name, i)], ['target-pid', c.shim.Pid], ['target-start', c.shim.PidStart]]));
      const res = (require('child_process') as typeof import('child_process')).spawnSync(shimPath, ['netattach', file], { encoding: 'utf8' });
      fs.rmSync(file, { force: true });
      if (res.status !== 0) {
        this.networks.release(net, ep.IPAddress, r.Id);
        throw new BerthError(`cannot connect ${r.Name} to ${net.Name}: ${(res.stderr || '').trim()}`, 'unavailable');
      }
    }
    writeJsonAtomic(path.join(c.bundle, 'config.json'), r);
    this.refreshHosts([net.Id]);
  }

  // network disconnect: the container leaves one network (its interface goes at once).
  disconnect(netRef: string, ref: string): void {
    const net = this.networks.get(netRef);
    const c = this.lookup.get(ref);
    const r = c.record;
    const names = Object.keys(r.NetworkSettings?.Networks ?? {});
    const i = names.indexOf(net.Name);
    if (i < 0) throw new BerthError(`container ${r.Name} is not connected to network ${net.Name}`, 'conflict');
    if (c.state.Running) this.networks.deleteLink(vethName(r.Id, i)); // its peer in the container goes with it
    const ep = r.NetworkSettings!.Networks[net.Name];
    delete r.NetworkSettings!.Networks[net.Name];
    this.networks.release(net, ep.IPAddress, r.Id);
    writeJsonAtomic(path.join(c.bundle, 'config.json'), r);
    this.refreshHosts([net.Id]);
  }

  // Gives back every address of a removed container; returns the networks it was on.
  releaseAll(r: ContainerRecord): string[] {
    const netIds: string[] = [];
    for (const [name, e] of Object.entries(r.NetworkSettings?.Networks ?? {})) {
      let net: NetworkRecord | undefined;
      try {
        net = this.networks.get(name);
      } catch {
        /* network already gone */
      }
      this.networks.release(net, e.IPAddress, r.Id);
      netIds.push(e.NetworkID);
    }
    return netIds;
  }

  // Rewrites the hosts file of every container on these networks.
  refreshHosts(networkIds: string[]): void {
    if (!networkIds.length) return;
    const all = this.lookup.list(true).filter((x) => x.record.NetworkSettings);
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

  // network inspect's Containers: who is on a network, with address and aliases.
  membersOf(net: NetworkRecord): Record<string, { Name: string; IPv4Address: string; Aliases: string[] }> {
    const out: Record<string, { Name: string; IPv4Address: string; Aliases: string[] }> = {};
    for (const c of this.lookup.list(true)) {
      const e = c.record.NetworkSettings?.Networks[net.Name];
      if (e && e.NetworkID === net.Id) out[c.record.Id] = { Name: c.record.Name, IPv4Address: `${e.IPAddress}/${e.IPPrefixLen}`, Aliases: e.Aliases };
    }
    return out;
  }
}

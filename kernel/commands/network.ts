// network create, ls, inspect, rm and prune, in docker's grammar and columns.
import { labelMap } from './flags';
import { printInspected } from './inspect';
import { forEachArg } from './each';
import { BerthError } from '../engine';
import { table } from '../render/table';
import { Command } from './types';

export const networkCreateCommand: Command = {
  name: 'network-create',
  usage: 'network create [OPTIONS] NETWORK',
  summary: 'Create a network',
  flags: [
    { long: 'subnet', kind: 'string', help: 'Subnet in CIDR format that represents a network segment' },
    { long: 'gateway', kind: 'string', help: 'IPv4 Gateway for the master subnet' },
    { long: 'internal', kind: 'bool', help: 'Restrict external access to the network (no default route)' },
    { long: 'driver', short: 'd', kind: 'string', help: 'Driver to manage the Network', default: 'bridge' },
    { long: 'label', kind: 'list', help: 'Set metadata on a network' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    if (p.flags.driver !== undefined && p.flags.driver !== 'bridge') throw new BerthError(`driver ${p.flags.driver} is not supported; Berth networks use the bridge driver`);
    const labels = labelMap(p.flags.label as string[]);
    const n = engine.networks.create({ name: p.args[0], subnet: p.flags.subnet as string | undefined, gateway: p.flags.gateway as string | undefined, internal: p.flags.internal === true, labels });
    (io.value ?? io.out)(`${n.Id}\n`);
    return 0;
  },
};

export const networkLsCommand: Command = {
  name: 'network-ls',
  usage: 'network ls [OPTIONS]',
  summary: 'List networks',
  flags: [
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Only display network IDs' },
    { long: 'no-trunc', kind: 'bool', help: 'Do not truncate the output' },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    const fixed = [{ Id: '', Name: 'host', Driver: 'host' }, { Id: '', Name: 'none', Driver: 'null' }];
    const nets = [...engine.networks.list(), ...fixed].sort((a, b) => a.Name.localeCompare(b.Name));
    const id = (x: string, name: string) => (x ? (p.flags['no-trunc'] === true ? x : x.slice(0, 12)) : name === 'host' ? '(host)'.padEnd(12) : '(none)'.padEnd(12));
    if (p.flags.quiet === true) {
      io.out(nets.filter((n) => n.Id).map((n) => `${id(n.Id, n.Name)}\n`).join(''));
      return 0;
    }
    io.show(table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], nets.map((n) => [id(n.Id, n.Name).trim(), n.Name, n.Driver, 'local'])));
    return 0;
  },
};

export const networkInspectCommand: Command = {
  name: 'network-inspect',
  usage: 'network inspect NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  flags: [{ long: 'format', short: 'f', kind: 'string', help: 'Format output using a Go template' }],
  minArgs: 1,
  async run(p, { engine, io }) {
    printInspected(io, p.args.map((ref) => engine.networks.inspect(ref)), p.flags.format);
    return 0;
  },
};

export const networkRmCommand: Command = {
  name: 'network-rm',
  usage: 'network rm NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  flags: [],
  minArgs: 1,
  run: (p, ctx) => forEachArg(p, ctx, (ref) => void ctx.engine.networks.remove(ref)),
};

export const networkPruneCommand: Command = {
  name: 'network-prune',
  usage: 'network prune [OPTIONS]',
  summary: 'Remove all unused networks',
  flags: [{ long: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation' }],
  maxArgs: 0,
  async run(_p, { engine, io }) {
    const removed = engine.networks.prune();
    io.out(removed.length ? `Deleted Networks:\n${removed.map((n) => n.Name).join('\n')}\n` : '');
    return 0;
  },
};

export const portCommand: Command = {
  name: 'port',
  usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  flags: [],
  minArgs: 1,
  maxArgs: 2,
  async run(p, { engine, io }) {
    const c = engine.containers.get(p.args[0]);
    let ports = c.state.Running ? c.shim?.Ports ?? [] : [];
    if (p.args[1]) {
      const [num, proto] = p.args[1].split('/');
      ports = ports.filter((x) => String(x.ContainerPort) === num && (!proto || proto === x.Protocol));
      if (!ports.length) throw new BerthError(`No public port '${p.args[1].includes('/') ? p.args[1] : `${p.args[1]}/tcp`}' published for ${c.record.Name}`);
      io.out(ports.map((x) => `${x.HostIp}:${x.HostPort}\n`).join(''));
      return 0;
    }
    io.out(ports.map((x) => `${x.ContainerPort}/${x.Protocol} -> ${x.HostIp}:${x.HostPort}\n`).join(''));
    return 0;
  },
};

export const networkConnectCommand: Command = {
  name: 'network-connect',
  usage: 'network connect [OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  flags: [
    { long: 'alias', kind: 'list', help: 'Add network-scoped alias for the container' },
    { long: 'ip', kind: 'string', help: 'IPv4 address (e.g., 172.31.0.9)' },
  ],
  minArgs: 2,
  maxArgs: 2,
  async run(p, { engine }) {
    engine.networks.connect(p.args[0], p.args[1], { aliases: p.flags.alias as string[], ip: p.flags.ip as string | undefined });
    return 0;
  },
};

export const networkDisconnectCommand: Command = {
  name: 'network-disconnect',
  usage: 'network disconnect [OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  flags: [{ long: 'force', short: 'f', kind: 'bool', help: 'Force the container to disconnect from a network' }],
  minArgs: 2,
  maxArgs: 2,
  async run(p, { engine }) {
    engine.networks.disconnect(p.args[0], p.args[1]);
    return 0;
  },
};

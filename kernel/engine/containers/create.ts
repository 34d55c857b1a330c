// From a create request and an image to a container record and its bundle
// directory, with docker's rules for entrypoint, command, env and defaults.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BerthError } from '../errors';
import { Image } from '../images/types';
import { ContainerRecord, CreateRequest, HostConfig } from './types';

export function newContainerId(): string {
  return (require('crypto') as typeof import('crypto')).randomBytes(32).toString('hex');
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) out.set(e.split('=')[0], e);
  return [...out.values()];
}

export function buildRecord(id: string, name: string, req: CreateRequest, image: Image): ContainerRecord {
  const defaults = image.config.config;
  let entrypoint: string[] | null;
  let cmd: string[];
  if (req.entrypoint !== undefined) {
    // A new entrypoint drops the image's CMD too, as docker does.
    entrypoint = req.entrypoint === '' ? null : [req.entrypoint];
    cmd = req.command;
  } else {
    entrypoint = defaults.Entrypoint?.length ? defaults.Entrypoint : null;
    cmd = req.command.length ? req.command : defaults.Cmd ?? [];
  }
  const argv = [...(entrypoint ?? []), ...cmd];
  if (argv.length === 0) {
    throw new BerthError('No command specified: the image has no CMD or ENTRYPOINT; give one after the image name, e.g. `berth run IMAGE sh`');
  }
  // Without --network a container joins the default bridge, as in docker.
  const publishing = Object.keys(req.host.PortBindings ?? {}).length > 0 || req.host.PublishAllPorts === true;
  const network = req.host.NetworkMode ?? 'bridge';
  if (publishing && (network === 'none' || network === 'host' || network.startsWith('container:'))) {
    throw new BerthError(`ports cannot be published with --network ${network}: leave --network out, or use bridge or a network you created`);
  }
  const bindings: HostConfig['PortBindings'] = { ...(req.host.PortBindings ?? {}) };
  if (req.host.PublishAllPorts) {
    for (const port of Object.keys(defaults.ExposedPorts ?? {})) {
      bindings[port] = bindings[port] ?? [{ HostIp: '127.0.0.1', HostPort: '' }];
    }
  }
  const hostname = req.hostname ?? (network === 'host' ? os.hostname() : id.slice(0, 12));
  const host: HostConfig = {
    Memory: req.host.Memory ?? 0,
    MemorySwap: req.host.MemorySwap ?? 0,
    NanoCpus: req.host.NanoCpus ?? 0,
    CpuShares: req.host.CpuShares ?? 0,
    PidsLimit: req.host.PidsLimit ?? 0,
    MemoryReservation: req.host.MemoryReservation ?? 0,
    CpusetCpus: req.host.CpusetCpus ?? '',
    BlkioWeight: req.host.BlkioWeight ?? 0,
    BlkioDeviceReadBps: req.host.BlkioDeviceReadBps ?? [],
    BlkioDeviceWriteBps: req.host.BlkioDeviceWriteBps ?? [],
    BlkioDeviceReadIOps: req.host.BlkioDeviceReadIOps ?? [],
    BlkioDeviceWriteIOps: req.host.BlkioDeviceWriteIOps ?? [],
    ReadonlyRootfs: req.host.ReadonlyRootfs ?? false,
    NetworkMode: network,
    AutoRemove: req.host.AutoRemove ?? false,
    Init: req.host.Init ?? false,
    Ulimits: req.host.Ulimits ?? [],
    PortBindings: bindings,
    PublishAllPorts: req.host.PublishAllPorts ?? false,
    Binds: req.host.Binds ?? [],
    Mounts: req.host.Mounts ?? [],
    Tmpfs: req.host.Tmpfs ?? {},
    Devices: req.host.Devices ?? [],
    DeviceRequests: req.host.DeviceRequests?.length ? req.host.DeviceRequests : null,
  };
  const env = mergeEnv(
    [`HOSTNAME=${hostname}`, ...(req.tty ? ['TERM=xterm'] : []), ...(defaults.Env ?? [])],
    req.env,
  );
  return {
    Id: id,
    Name: name,
    Created: new Date().toISOString(),
    Path: argv[0],
    Args: argv.slice(1),
    Image: image.id,
    Layers: image.chainIds,
    ...(req.secretEnv?.length ? { SecretEnv: req.secretEnv } : {}),
    Config: {
      Hostname: hostname,
      User: req.user ?? defaults.User ?? '',
      Env: env,
      Cmd: cmd,
      Entrypoint: entrypoint,
      Image: req.image,
      WorkingDir: req.workdir ?? defaults.WorkingDir ?? '',
      Tty: req.tty,
      OpenStdin: req.openStdin,
      AttachStdin: req.openStdin,
      StopSignal: defaults.StopSignal,
      Labels: { ...(defaults.Labels ?? {}), ...(req.labels ?? {}) },
    },
    HostConfig: host,
    RestartCount: 0,
    Mounts: [], // made by the engine once the request is known to be good
  };
}

// The container's /etc/hosts: localhost, itself, and on a user-defined
// network every other container there by name and alias (how containers
// find each other by name). Written in place: the file is bind-mounted.
export function writeHosts(bundle: string, record: ContainerRecord, peers: Array<{ ip: string; names: string[] }>): void {
  let hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  const own = Object.values(record.NetworkSettings?.Networks ?? {})[0];
  if (own) hosts += `${own.IPAddress}\t${record.Config.Hostname}\n`;
  for (const p of peers) hosts += `${p.ip}\t${p.names.join(' ')}\n`;
  // Rewrite the existing file only: never create one in a bundle that
  // another process may be removing.
  const fd = fs.openSync(path.join(bundle, 'hosts'), 'r+');
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, hosts, 0);
  } finally {
    fs.closeSync(fd);
  }
}

// The files the shim bind-mounts over /etc/hostname, /etc/hosts and
// /etc/resolv.conf, owned by the container and not by its image.
export function writeEtcFiles(bundle: string, record: ContainerRecord): void {
  const hostNet = record.HostConfig.NetworkMode === 'host';
  fs.writeFileSync(path.join(bundle, 'hostname'), `${record.Config.Hostname}\n`);
  let hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  if (hostNet) {
    try {
      hosts = fs.readFileSync('/etc/hosts', 'utf8');
    } catch {
      /* keep the default */
    }
  }
  fs.writeFileSync(path.join(bundle, 'hosts'), hosts);
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  };
  const resolv = hostNet ? (read('/etc/resolv.conf') ?? '') : containerResolvConf(read('/etc/resolv.conf') ?? '', () => read('/run/systemd/resolve/resolv.conf'));
  fs.writeFileSync(path.join(bundle, 'resolv.conf'), resolv);
}

const LOOPBACK_NS = /^\s*nameserver\s+(127\.|::1|\[::1\])/;
const ANY_NS = /^\s*nameserver\s+\S/;

// A container in its own network namespace cannot reach a resolver on the
// host's loopback, so, as docker does: systemd-resolved's stub
// (127.0.0.53) gives way to the upstream servers it lists in
// /run/systemd/resolve/resolv.conf; loopback nameservers are dropped; and
// with none left, the public ones docker falls back to (RUN pip install
// must resolve names).
export function containerResolvConf(host: string, systemdUpstream: () => string | undefined): string {
  let conf = host;
  const servers = conf.split('\n').filter((l) => ANY_NS.test(l));
  if (servers.length && servers.every((l) => LOOPBACK_NS.test(l))) conf = systemdUpstream() ?? conf;
  conf = conf.split('\n').filter((l) => !LOOPBACK_NS.test(l)).join('\n');
  if (!conf.split('\n').some((l) => ANY_NS.test(l))) conf = `${conf.replace(/\n*$/, '\n').replace(/^\n$/, '')}nameserver 8.8.8.8\nnameserver 8.8.4.4\n`;
  return conf;
}

// docker's inspect shape for a container: the record, its state, and where
// its files lie in the bundle.
import type { Endpoint } from '../network/types';
import { Container, measured } from './types';

export function containerInspect(c: Container): Record<string, unknown> {
  const r = c.record;
  const bundle = c.bundle;
  return {
    Id: r.Id,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: c.state,
    Image: r.Image,
    ResolvConfPath: `${bundle}/resolv.conf`,
    HostnamePath: `${bundle}/hostname`,
    HostsPath: `${bundle}/hosts`,
    LogPath: `${bundle}/${r.Id}-json.log`,
    Name: `/${r.Name}`,
    RestartCount: r.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    HostConfig: { ...r.HostConfig, LogConfig: { Type: 'json-file', Config: {} } },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: r.Layers.map((l) => l.replace('sha256:', '')).reverse().join(':'),
        UpperDir: `${bundle}/upper`,
        WorkDir: `${bundle}/work`,
        MergedDir: `${bundle}/merged`,
      },
    },
    Mounts: (r.Mounts ?? []).map(({ NoCopy: _n, ...m }) => m),
    Config: { ...r.Config, AttachStdout: true, AttachStderr: true, StdinOnce: false },
    NetworkSettings: {
      // The default bridge's endpoint at the top level too, as docker shows it.
      ...topLevelEndpoint(r.NetworkSettings?.Networks.bridge),
      Networks: r.NetworkSettings?.Networks ?? { [r.HostConfig.NetworkMode]: {} },
      Ports: Object.fromEntries(Object.keys(r.HostConfig.PortBindings ?? {}).map((k) => [k, (c.state.Running ? c.shim?.Ports ?? [] : []).filter((x) => `${x.ContainerPort}/${x.Protocol}` === k).map((x) => ({ HostIp: x.HostIp, HostPort: String(x.HostPort) }))])),
    },
    Berth: c.shim ? { PeakMemory: measured(c.shim.PeakMemory), CpuNs: measured(c.shim.CpuNs) } : undefined, // null: not measured
  };
}

function topLevelEndpoint(e: Endpoint | undefined): Record<string, unknown> {
  return {
    IPAddress: e?.IPAddress ?? '',
    IPPrefixLen: e?.IPPrefixLen ?? 0,
    Gateway: e?.Gateway ?? '',
    MacAddress: e?.MacAddress ?? '',
  };
}

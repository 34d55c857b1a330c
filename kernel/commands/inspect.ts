// inspect: docker's JSON shape for containers and images, or a --format template.
import { BerthError, NotFoundError } from '../engine/errors';
import { Container, measured } from '../engine/containers/types';
import { Image } from '../engine/images/types';
import { renderTemplate } from '../render/template';
import { Command, Io } from './types';

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
      Networks: r.NetworkSettings?.Networks ?? { [r.HostConfig.NetworkMode]: {} },
      Ports: Object.fromEntries(Object.keys(r.HostConfig.PortBindings ?? {}).map((k) => [k, (c.state.Running ? c.shim?.Ports ?? [] : []).filter((x) => `${x.ContainerPort}/${x.Protocol}` === k).map((x) => ({ HostIp: x.HostIp, HostPort: String(x.HostPort) }))])),
    },
    Berth: c.shim ? { PeakMemory: measured(c.shim.PeakMemory), CpuNs: measured(c.shim.CpuNs) } : undefined, // null: not measured
  };
}

export function imageInspect(img: Image): Record<string, unknown> {
  return {
    Id: img.id,
    RepoTags: img.refs,
    RepoDigests: img.repoDigests ?? [],
    Created: img.config.created,
    Author: img.config.author ?? '',
    Config: img.config.config,
    Architecture: img.config.architecture,
    Os: img.config.os,
    Size: img.size,
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { ManifestDigest: img.manifestDigest },
  };
}

// What every inspect prints: a JSON array, or one --format line per object.
export function printInspected(io: Io, objects: unknown[], format: unknown): void {
  if (typeof format === 'string') {
    for (const o of objects) (io.value ?? io.out)(renderTemplate(format, o) + '\n');
  } else {
    io.out(JSON.stringify(objects, null, 4) + '\n');
  }
}

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on containers or images',
  flags: [
    { long: 'format', short: 'f', kind: 'string', help: 'Format output using a Go template' },
    { long: 'type', kind: 'string', help: 'Only inspect objects of the given type (container or image)' },
  ],
  minArgs: 1,
  async run(p, { engine, io }) {
    const type = p.flags.type as string | undefined;
    const results: Record<string, unknown>[] = [];
    let code = 0;
    for (const ref of p.args) {
      try {
        if (type !== 'image') {
          try {
            results.push(containerInspect(engine.containers.get(ref)));
            continue;
          } catch (e) {
            if (!(e instanceof NotFoundError) || type === 'container') throw e;
          }
        }
        results.push(imageInspect(engine.images.resolve(ref)));
      } catch (e) {
        if (!(e instanceof BerthError)) throw e;
        io.err(`Error: No such object: ${ref}\n`);
        code = 1;
      }
    }
    printInspected(io, results, p.flags.format);
    return code;
  },
};

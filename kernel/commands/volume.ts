// volume create, ls, inspect, rm and prune, in docker's grammar and columns.
import { printInspected } from './inspect';
import { forEachArg } from './each';
import { BerthError } from '../engine';
import { VolumeRecord } from '../engine';
import { table } from '../render/table';
import { humanSize } from '../render/units';
import { Command } from './types';
import { labelMap, UsageError } from './flags';

export const volumeCreateCommand: Command = {
  name: 'volume-create',
  usage: 'volume create [OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  flags: [
    { long: 'driver', short: 'd', kind: 'string', help: 'Specify volume driver name', default: 'local' },
    { long: 'label', kind: 'list', help: 'Set metadata for a volume' },
    { long: 'opt', short: 'o', kind: 'list', help: 'Set driver specific options (not supported by the local driver here)' },
    { long: 'name', kind: 'string', help: 'Specify volume name' },
  ],
  maxArgs: 1,
  async run(p, { engine, io }) {
    if (p.flags.driver !== undefined && p.flags.driver !== 'local') throw new BerthError(`volume driver ${p.flags.driver} is not supported; Berth volumes use the local driver`);
    if ((p.flags.opt as string[]).length) throw new BerthError('driver options (-o) are not supported: a Berth volume is a plain directory; use --mount type=tmpfs for a tmpfs');
    const name = p.args[0] ?? (p.flags.name as string | undefined);
    if (p.args[0] && p.flags.name && p.flags.name !== p.args[0]) throw new UsageError(`conflicting options: either specify --name or provide positional arg, not both`, 'volume create');
    const v = engine.volumes.create(name, labelMap(p.flags.label as string[]));
    (io.value ?? io.out)(`${v.Name}\n`);
    return 0;
  },
};

export const volumeLsCommand: Command = {
  name: 'volume-ls',
  usage: 'volume ls [OPTIONS]',
  summary: 'List volumes',
  flags: [
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Only display volume names' },
    { long: 'filter', short: 'f', kind: 'list', help: 'Provide filter values (dangling=true|false, name=TEXT, label=KEY)' },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    let vols = engine.volumes.list();
    for (const f of p.flags.filter as string[]) {
      const [k, ...rest] = f.split('=');
      const v = rest.join('=');
      if (k === 'dangling') vols = vols.filter((x) => (engine.volumes.inUse(x.Name).length === 0) === (v === 'true' || v === '1'));
      else if (k === 'name') vols = vols.filter((x) => x.Name.includes(v));
      else if (k === 'label') {
        const [[key, value]] = Object.entries(labelMap([v]));
        vols = vols.filter((x) => key in x.Labels && (!v.includes('=') || x.Labels[key] === value));
      }
      else throw new BerthError(`invalid filter '${k}'; use dangling, name or label`);
    }
    if (p.flags.quiet === true) {
      io.out(vols.map((v) => `${v.Name}\n`).join(''));
      return 0;
    }
    io.show(table(['DRIVER', 'VOLUME NAME'], vols.map((v) => [v.Driver, v.Name])));
    return 0;
  },
};

export const volumeInspectCommand: Command = {
  name: 'volume-inspect',
  usage: 'volume inspect [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  flags: [{ long: 'format', short: 'f', kind: 'string', help: 'Format output using a Go template' }],
  minArgs: 1,
  async run(p, { engine, io }) {
    const out: VolumeRecord[] = p.args.map((ref) => engine.volumes.get(ref));
    printInspected(io, out, p.flags.format);
    return 0;
  },
};

export const volumeRmCommand: Command = {
  name: 'volume-rm',
  usage: 'volume rm [OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  flags: [{ long: 'force', short: 'f', kind: 'bool', help: 'Do not fail when a volume does not exist' }],
  minArgs: 1,
  run: (p, ctx) => forEachArg(p, ctx, (ref) => void ctx.engine.volumes.remove(ref, p.flags.force === true)),
};

export const volumePruneCommand: Command = {
  name: 'volume-prune',
  usage: 'volume prune [OPTIONS]',
  summary: 'Remove unused anonymous volumes (with -a, every unused volume)',
  flags: [
    { long: 'all', short: 'a', kind: 'bool', help: 'Remove all unused volumes, not just anonymous ones' },
    { long: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    const r = engine.volumes.prune(p.flags.all === true);
    io.out(`${r.removed.length ? `Deleted Volumes:\n${r.removed.join('\n')}\n\n` : ''}Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
    return 0;
  },
};

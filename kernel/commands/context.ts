// context create, ls, inspect, use, rm and show, as docker's: where runs go.
// "default" is this machine; --slurm makes a context that hands runs to a
// Slurm cluster.
import { BerthError, ContextRecord, SlurmEndpoint } from '../engine';
import { table } from '../render/table';
import { forEachArg } from './each';
import { printInspected } from './inspect';
import { Command } from './types';

function endpointText(c: ContextRecord): string {
  const s = c.Endpoints.slurm;
  if (!s) return 'this machine';
  return ['slurm', s.Partition && `partition=${s.Partition}`, s.Account && `account=${s.Account}`, s.Time && `time=${s.Time}`, s.Registry && `registry=${s.Registry}`].filter(Boolean).join(' ');
}

export const contextCreateCommand: Command = {
  name: 'context-create',
  usage: 'context create [OPTIONS] CONTEXT',
  summary: 'Create a context',
  flags: [
    { long: 'slurm', kind: 'bool', help: 'Run on a Slurm cluster, through srun and squeue on this machine' },
    { long: 'partition', kind: 'string', help: 'Slurm partition for the runs' },
    { long: 'account', kind: 'string', help: 'Slurm account to charge' },
    { long: 'time', kind: 'string', help: "Slurm time limit for each run (e.g. 2:00:00)" },
    { long: 'registry', kind: 'string', help: 'Registry (HOST:PORT) through which images reach the nodes' },
    { long: 'berth', kind: 'string', help: "Berth's command on the nodes (default: berth)" },
    { long: 'description', kind: 'string', help: 'Description of the context' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const f = p.flags;
    const slurmOnly = ['partition', 'account', 'time', 'registry', 'berth'].filter((k) => f[k] !== undefined);
    if (f.slurm !== true) {
      throw new BerthError(slurmOnly.length ? `--${slurmOnly[0]} belongs to a Slurm context: add --slurm` : 'say where the context runs: --slurm (this machine is the default context)');
    }
    if (typeof f.registry === 'string' && !/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(f.registry)) {
      throw new BerthError(`--registry ${f.registry}: write HOST[:PORT], e.g. 127.0.0.1:5000 or registry.cluster.example`);
    }
    const slurm: SlurmEndpoint = {};
    if (typeof f.partition === 'string') slurm.Partition = f.partition;
    if (typeof f.account === 'string') slurm.Account = f.account;
    if (typeof f.time === 'string') slurm.Time = f.time;
    if (typeof f.registry === 'string') slurm.Registry = f.registry;
    if (typeof f.berth === 'string') slurm.Berth = f.berth;
    engine.contexts.store.create({ Name: p.args[0], Metadata: { Description: (f.description as string | undefined) ?? '' }, Endpoints: { slurm } });
    (io.value ?? io.out)(`${p.args[0]}\n`);
    io.err(`Successfully created context "${p.args[0]}"\n`);
    return 0;
  },
};

export const contextLsCommand: Command = {
  name: 'context-ls',
  usage: 'context ls [OPTIONS]',
  summary: 'List contexts',
  flags: [{ long: 'quiet', short: 'q', kind: 'bool', help: 'Only show context names' }],
  maxArgs: 0,
  async run(p, { engine, io, contextName }) {
    const current = engine.contexts.store.currentName(contextName);
    const all = engine.contexts.store.list();
    if (p.flags.quiet === true) {
      io.out(all.map((c) => `${c.Name}\n`).join(''));
      return 0;
    }
    io.show(table(['NAME', 'DESCRIPTION', 'ENDPOINT'], all.map((c) => [`${c.Name}${c.Name === current ? ' *' : ''}`, c.Metadata.Description, endpointText(c)])));
    return 0;
  },
};

export const contextInspectCommand: Command = {
  name: 'context-inspect',
  usage: 'context inspect [OPTIONS] [CONTEXT...]',
  summary: 'Display detailed information on one or more contexts',
  flags: [{ long: 'format', short: 'f', kind: 'string', help: 'Format output using a custom template' }],
  async run(p, { engine, io, contextName }) {
    const names = p.args.length ? p.args : [engine.contexts.store.currentName(contextName)];
    printInspected(io, names.map((n) => engine.contexts.store.get(n)), p.flags.format);
    return 0;
  },
};

export const contextUseCommand: Command = {
  name: 'context-use',
  usage: 'context use CONTEXT',
  summary: 'Set the current context',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    engine.contexts.store.use(p.args[0]);
    (io.value ?? io.out)(`${p.args[0]}\n`);
    io.err(`Current context is now "${p.args[0]}"\n`);
    return 0;
  },
};

export const contextShowCommand: Command = {
  name: 'context-show',
  usage: 'context show',
  summary: 'Print the name of the current context',
  flags: [],
  maxArgs: 0,
  async run(_p, { engine, io, contextName }) {
    (io.value ?? io.out)(`${engine.contexts.store.currentName(contextName)}\n`);
    return 0;
  },
};

export const contextRmCommand: Command = {
  name: 'context-rm',
  usage: 'context rm [OPTIONS] CONTEXT [CONTEXT...]',
  summary: 'Remove one or more contexts',
  flags: [{ long: 'force', short: 'f', kind: 'bool', help: 'Force the removal of a context in use' }],
  minArgs: 1,
  async run(p, ctx) {
    return forEachArg(p, ctx, (name) => {
      ctx.engine.contexts.store.remove(name, p.flags.force === true);
      return name;
    });
  },
};


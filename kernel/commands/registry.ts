// Every command by name, loaded lazily so that `berth ps` does not pay for
// the tar code of `berth import`. Docker's management forms
// ("container run", "image ls") and a leading "docker" map onto the same
// commands, so lines pasted from Docker tutorials work.
import { BerthError } from '../engine';
import { flagHelp, parseFlags, UsageError } from './flags';
import { Command, CommandContext } from './types';

type Loader = () => Command;

const table: Record<string, Loader> = {
  run: () => require('./run').runCommand,
  create: () => require('./run').createCommand,
  start: () => require('./lifecycle').startCommand,
  stop: () => require('./lifecycle').stopCommand,
  restart: () => require('./lifecycle').restartCommand,
  kill: () => require('./lifecycle').killCommand,
  rm: () => require('./lifecycle').rmCommand,
  wait: () => require('./lifecycle').waitCommand,
  update: () => require('./update').updateCommand,
  ps: () => require('./ps').psCommand,
  logs: () => require('./logs').logsCommand,
  exec: () => require('./exec').execCommand,
  inspect: () => require('./inspect').inspectCommand,
  top: () => require('./observe').topCommand,
  stats: () => require('./observe').statsCommand,
  images: () => require('./images').imagesCommand,
  import: () => require('./images').importCommand,
  build: () => require('./build').buildCommand,
  history: () => require('./image-manage').historyCommand,
  tag: () => require('./image-manage').tagCommand,
  rmi: () => require('./image-manage').rmiCommand,
  'image-prune': () => require('./image-manage').imagePruneCommand,
  commit: () => require('./image-manage').commitCommand,
  diff: () => require('./image-manage').diffCommand,
  save: () => require('./archive').saveCommand,
  load: () => require('./archive').loadCommand,
  export: () => require('./archive').exportCommand,
  port: () => require('./network').portCommand,
  records: () => require('./records').recordsCommand,
  pull: () => require('./registry-cmds').pullCommand,
  push: () => require('./registry-cmds').pushCommand,
  login: () => require('./registry-cmds').loginCommand,
  logout: () => require('./registry-cmds').logoutCommand,
  'network-create': () => require('./network').networkCreateCommand,
  'network-ls': () => require('./network').networkLsCommand,
  'network-inspect': () => require('./network').networkInspectCommand,
  'network-rm': () => require('./network').networkRmCommand,
  'network-prune': () => require('./network').networkPruneCommand,
  'network-connect': () => require('./network').networkConnectCommand,
  'network-disconnect': () => require('./network').networkDisconnectCommand,
  'volume-create': () => require('./volume').volumeCreateCommand,
  'volume-ls': () => require('./volume').volumeLsCommand,
  'volume-inspect': () => require('./volume').volumeInspectCommand,
  'volume-rm': () => require('./volume').volumeRmCommand,
  'volume-prune': () => require('./volume').volumePruneCommand,
  'context-create': () => require('./context').contextCreateCommand,
  'context-ls': () => require('./context').contextLsCommand,
  'context-inspect': () => require('./context').contextInspectCommand,
  'context-use': () => require('./context').contextUseCommand,
  'context-show': () => require('./context').contextShowCommand,
  'context-rm': () => require('./context').contextRmCommand,
  'system-check': () => require('./system').systemCheckCommand,
  'system-prune': () => require('./system').systemPruneCommand,
};

const management: Record<string, Record<string, string>> = {
  container: { update: 'update', port: 'port', commit: 'commit', diff: 'diff', export: 'export', run: 'run', create: 'create', start: 'start', stop: 'stop', restart: 'restart', kill: 'kill', rm: 'rm', wait: 'wait', ls: 'ps', ps: 'ps', list: 'ps', logs: 'logs', exec: 'exec', inspect: 'inspect', top: 'top', stats: 'stats' },
  image: { ls: 'images', list: 'images', import: 'import', inspect: 'inspect', build: 'build', history: 'history', tag: 'tag', rm: 'rmi', prune: 'image-prune', save: 'save', load: 'load', pull: 'pull', push: 'push' },
  builder: { build: 'build' },
  volume: { create: 'volume-create', ls: 'volume-ls', list: 'volume-ls', inspect: 'volume-inspect', rm: 'volume-rm', remove: 'volume-rm', prune: 'volume-prune' },
  network: { create: 'network-create', ls: 'network-ls', list: 'network-ls', inspect: 'network-inspect', rm: 'network-rm', remove: 'network-rm', prune: 'network-prune', connect: 'network-connect', disconnect: 'network-disconnect' },
  system: { check: 'system-check', prune: 'system-prune' },
  context: { create: 'context-create', ls: 'context-ls', list: 'context-ls', inspect: 'context-inspect', use: 'context-use', show: 'context-show', rm: 'context-rm', remove: 'context-rm' },
};

// The names users type; "image-prune" and the like are reached as "image prune".
export function commandNames(): string[] {
  return Object.keys(table).filter((n) => !n.includes('-'));
}

export function loadCommand(name: string): Command | undefined {
  return Object.prototype.hasOwnProperty.call(table, name) ? table[name]() : undefined;
}

// Maps argv to a command name and its own arguments.
export function resolve(argv: string[]): { name: string; args: string[] } | undefined {
  let a = argv;
  if (a[0] === 'docker') a = a.slice(1);
  if (a.length === 0) return undefined;
  if (management[a[0]]) {
    const sub = management[a[0]][a[1]];
    if (!sub) throw new BerthError(`unknown command "${a.slice(0, 2).join(' ')}"; run \`berth help\` for the list`);
    return { name: sub, args: a.slice(2) };
  }
  if (!table[a[0]]) throw new BerthError(`unknown command "${a[0]}" for "berth"; run \`berth help\` for the list`);
  return { name: a[0], args: a.slice(1) };
}

export function helpFor(cmd: Command): string {
  return `\nUsage:  berth ${cmd.usage}\n\n${cmd.summary}\n${cmd.flags.length ? `\nOptions:\n${flagHelp(cmd.flags)}\n` : ''}`;
}

const MANAGEMENT_SUMMARY: Record<string, string> = {
  builder: 'Manage builds',
  context: 'Manage contexts (where runs go: this machine or a Slurm cluster)',
  container: 'Manage containers',
  image: 'Manage images',
  network: 'Manage networks',
  volume: 'Manage volumes',
  system: 'Manage Berth (check and clean the store)',
};

export function overview(): string {
  const rows = commandNames().map((n) => `  ${n.padEnd(10)}${loadCommand(n)!.summary}`);
  const groups = Object.keys(management).map((n) => `  ${n.padEnd(10)}${MANAGEMENT_SUMMARY[n]}`);
  return `\nUsage:  berth COMMAND\n\nA container lab that lives inside Jupyter. Commands follow the docker CLI.\n\nManagement Commands:\n${groups.join('\n')}\n\nCommands:\n${rows.join('\n')}\n  install   Install the Berth kernelspec for Jupyter (--user, --sys-prefix or --prefix DIR)\n  kernel    Run the Jupyter kernel (Jupyter starts it from the kernelspec)\n  demo      Run a short tour of the commands\n\nRun 'berth COMMAND --help' for more information on a command.\n`;
}

// Commands about containers, which on a cluster context mean its jobs (run
// sends itself there). Images, builds, networks and volumes stay this
// machine's, as the images a cluster runs are built and pushed from here.
const CONTAINER_COMMANDS = new Set(['create', 'start', 'stop', 'restart', 'kill', 'rm', 'wait', 'update', 'ps', 'logs', 'exec', 'inspect', 'top', 'stats', 'commit', 'diff', 'export', 'port']);

// Parses and runs one command line; returns the exit code.
export async function execute(argv: string[], ctx: CommandContext): Promise<number> {
  // docker's global --context NAME (or --context=NAME), before the command.
  const global = /^--context(?:=(.*))?$/.exec(argv[0] ?? '');
  if (global) {
    const name = global[1] ?? argv[1];
    if (!name) throw new UsageError('flag needs an argument: --context', 'berth');
    return execute(argv.slice(global[1] !== undefined ? 1 : 2), { ...ctx, contextName: name });
  }
  const r = resolve(argv);
  if (!r) {
    ctx.io.out(overview());
    return 0;
  }
  const cmd = loadCommand(r.name)!;
  if (r.args.includes('--help') && (cmd.interspersed !== false || r.args.indexOf('--help') < firstPositional(r.args))) {
    ctx.io.out(helpFor(cmd));
    return 0;
  }
  const parsed = parseFlags(cmd.name, cmd.flags, r.args, cmd.interspersed !== false);
  const n = parsed.args.length;
  if (cmd.minArgs !== undefined && n < cmd.minArgs) {
    throw new UsageError(`"berth ${cmd.name}" requires at least ${cmd.minArgs} argument${cmd.minArgs > 1 ? 's' : ''}.\nUsage:  berth ${cmd.usage}`, cmd.name);
  }
  if (cmd.maxArgs !== undefined && n > cmd.maxArgs) {
    throw new UsageError(`"berth ${cmd.name}" accepts ${cmd.maxArgs === 0 ? 'no arguments' : `at most ${cmd.maxArgs} argument${cmd.maxArgs > 1 ? 's' : ''}`}.\nUsage:  berth ${cmd.usage}`, cmd.name);
  }
  try {
    const remote = CONTAINER_COMMANDS.has(cmd.name) ? ctx.engine.contexts.remote(ctx.contextName) : undefined;
    if (remote) {
      // On a cluster context, run -d made jobs, and these act on them.
      const onJob = (require('./remote-jobs') as typeof import('./remote-jobs')).remoteCommand(cmd.name);
      if (!onJob) throw new BerthError(`${cmd.name} acts on containers on this machine, and the context in use is "${remote.Name}" (a cluster, where runs are Slurm jobs: run, ps, logs, stop, kill, wait and rm act on them): add --context default, or berth context use default`);
      return await onJob(parsed, ctx, remote);
    }
    return await cmd.run(parsed, ctx);
  } catch (e) {
    // Front ends answer by the command as well as the kind (docker: run 125).
    if (e instanceof BerthError) e.command ??= cmd.name;
    throw e;
  }
}

function firstPositional(args: string[]): number {
  const i = args.findIndex((a) => !a.startsWith('-'));
  return i < 0 ? args.length : i;
}

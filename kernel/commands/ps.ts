import { psTable } from '../render/containers';
import { Command } from './types';

export const psCommand: Command = {
  name: 'ps',
  usage: 'ps [OPTIONS]',
  summary: 'List containers',
  flags: [
    { long: 'all', short: 'a', kind: 'bool', help: 'Show all containers (default shows just running)' },
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Only display container IDs' },
    { long: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { long: 'latest', short: 'l', kind: 'bool', help: 'Show the latest created container (includes all states)' },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    let list = engine.containers.list(p.flags.all === true || p.flags.latest === true);
    if (p.flags.latest === true) list = list.slice(0, 1);
    io.show(psTable(list, { quiet: p.flags.quiet === true, noTrunc: p.flags['no-trunc'] === true }));
    return 0;
  },
};

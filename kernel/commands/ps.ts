import { PS_HEADERS, PS_TABLE, psRows, psTable } from '../render/containers';
import { formatList } from '../render/template';
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
    { long: 'format', kind: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'" },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    let list = engine.containers.list(p.flags.all === true || p.flags.latest === true);
    if (p.flags.latest === true) list = list.slice(0, 1);
    const format = p.flags.format as string | undefined;
    if (format && format !== 'table' && p.flags.quiet !== true) {
      io.show({ text: formatList(format, psRows(list, p.flags['no-trunc'] === true), PS_HEADERS, PS_TABLE) });
      return 0;
    }
    io.show(psTable(list, { quiet: p.flags.quiet === true, noTrunc: p.flags['no-trunc'] === true }));
    return 0;
  },
};

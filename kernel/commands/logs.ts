import { BerthError } from '../engine';
import { Command } from './types';

export const logsCommand: Command = {
  name: 'logs',
  usage: 'logs [OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  flags: [
    { long: 'follow', short: 'f', kind: 'bool', help: 'Follow log output' },
    { long: 'tail', short: 'n', kind: 'string', help: 'Number of lines to show from the end of the logs', default: 'all' },
    { long: 'timestamps', short: 't', kind: 'bool', help: 'Show timestamps' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const c = engine.containers.get(p.args[0]);
    const tailText = typeof p.flags.tail === 'string' ? p.flags.tail : 'all';
    if (tailText !== 'all' && !/^\d+$/.test(tailText)) throw new BerthError(`invalid argument "${tailText}" for "-n, --tail" flag: use a number of lines or "all"`);
    const tail = tailText === 'all' ? undefined : Number(tailText);
    const isRunning = () => {
      try {
        return engine.containers.get(c.record.Id).state.Running;
      } catch {
        return false;
      }
    };
    for await (const e of engine.containers.logs(c, { follow: p.flags.follow === true, tail, isRunning })) {
      const line = p.flags.timestamps === true ? `${e.time} ${e.text}` : e.text;
      if (e.stream === 'stderr') io.err(line);
      else io.out(line);
    }
    return 0;
  },
};

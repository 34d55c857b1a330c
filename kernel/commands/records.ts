// `records`: lists the experiment records of a file, or compares two runs
// field by field.
import { BerthError, DEFAULT_RECORD_FILE } from '../engine';
import { renderComparison, renderRecords } from '../render/experiment';
import { UsageError } from './flags';
import { Command } from './types';

function runIndex(word: string, count: number): number {
  const n = word === 'last' ? count : word === 'prev' || word === 'previous' ? count - 1 : Number(word);
  if (!Number.isInteger(n) || n < 1 || n > count) {
    throw new BerthError(`there is no run "${word}": the file holds runs 1 to ${count} (or say last and prev)`, 'not-found');
  }
  return n;
}

export const recordsCommand: Command = {
  name: 'records',
  usage: 'records [OPTIONS] [compare RUN RUN]',
  summary: 'List experiment records, or compare two runs (RUN: a number from the list, last or prev)',
  flags: [{ long: 'file', kind: 'string', help: `The records file (default: the one %record uses, else ${DEFAULT_RECORD_FILE})` }],
  maxArgs: 3,
  async run(p, { engine, io }) {
    const file = (p.flags.file as string | undefined) ?? io.recordTo ?? DEFAULT_RECORD_FILE;
    const records = engine.records.read(file);
    if (p.args.length === 0) {
      io.show(renderRecords(records));
      return 0;
    }
    if (p.args[0] !== 'compare' || p.args.length !== 3) {
      throw new UsageError('write `records` to list the runs, or `records compare RUN RUN` (e.g. records compare 1 last)', 'records');
    }
    const a = runIndex(p.args[1], records.length);
    const b = runIndex(p.args[2], records.length);
    io.show(renderComparison(records[a - 1], records[b - 1], a, b));
    return 0;
  },
};

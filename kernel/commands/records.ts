// Experiment records on disk: one JSON line per foreground run, appended by
// `run --record FILE` (or every run after %record on), read back by
// `records`, which lists them or compares two runs field by field.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../engine/errors';
import { ExperimentRecord, renderComparison, renderRecords } from '../render/experiment';
import { UsageError } from './flags';
import { Command } from './types';

export const DEFAULT_RECORD_FILE = 'berth-records.jsonl';

export function appendRecord(file: string, rec: ExperimentRecord): void {
  const abs = path.resolve(file);
  try {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    // One write per record, with O_APPEND: two kernels can share a file.
    fs.appendFileSync(abs, JSON.stringify(rec) + '\n');
  } catch (e) {
    throw new BerthError(`cannot append the experiment record to ${file}: ${(e as Error).message}; choose a writable file with --record FILE`);
  }
}

export function readRecords(file: string): ExperimentRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new BerthError(`no experiment records in ${file} yet: run a container with --record ${file}, or turn recording on with %record on`, 1);
  }
  return text.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      const r = JSON.parse(line) as ExperimentRecord;
      if (typeof r.imageId !== 'string' || !Array.isArray(r.command)) throw new Error('not a record');
      return [r];
    } catch {
      throw new BerthError(`${file} line ${i + 1} is not an experiment record; the file holds one JSON record per line, as --record writes them`, 1);
    }
  });
}

function runIndex(word: string, count: number): number {
  const n = word === 'last' ? count : word === 'prev' || word === 'previous' ? count - 1 : Number(word);
  if (!Number.isInteger(n) || n < 1 || n > count) {
    throw new BerthError(`there is no run "${word}": the file holds runs 1 to ${count} (or say last and prev)`, 1);
  }
  return n;
}

export const recordsCommand: Command = {
  name: 'records',
  usage: 'records [OPTIONS] [compare RUN RUN]',
  summary: 'List experiment records, or compare two runs (RUN: a number from the list, last or prev)',
  flags: [{ long: 'file', kind: 'string', help: `The records file (default: the one %record uses, else ${DEFAULT_RECORD_FILE})` }],
  maxArgs: 3,
  async run(p, { io }) {
    const file = (p.flags.file as string | undefined) ?? io.recordTo ?? DEFAULT_RECORD_FILE;
    const records = readRecords(file);
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

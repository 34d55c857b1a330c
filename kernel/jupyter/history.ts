// Execution history kept across kernel restarts, in one JSON-lines file.
import * as fs from 'fs';
import * as path from 'path';

export interface HistoryEntry {
  session: number;
  line: number;
  input: string;
  output?: string; // text/plain of the cell's execute_result
}

export class History {
  private entries: HistoryEntry[] = [];
  readonly session: number;

  constructor(private readonly file: string) {
    try {
      // A later line for the same (session, line) carries its output.
      const byKey = new Map<string, HistoryEntry>();
      for (const l of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        const e = JSON.parse(l) as HistoryEntry;
        byKey.set(`${e.session}:${e.line}`, e);
      }
      this.entries = [...byKey.values()];
    } catch {
      /* first run */
    }
    this.session = this.entries.reduce((m, e) => Math.max(m, e.session), 0) + 1;
  }

  add(line: number, input: string): void {
    const e = { session: this.session, line, input };
    this.entries.push(e);
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.appendFileSync(this.file, JSON.stringify(e) + '\n');
    } catch {
      /* history is a convenience: never fail a cell for it */
    }
  }

  // Records the result of the latest cell; written as a second line so the
  // file stays append-only.
  setOutput(line: number, output: string): void {
    const e = [...this.entries].reverse().find((x) => x.session === this.session && x.line === line);
    if (!e) return;
    e.output = output;
    try {
      fs.appendFileSync(this.file, JSON.stringify({ ...e }) + '\n');
    } catch {
      /* see add() */
    }
  }

  tail(n: number): HistoryEntry[] {
    return this.entries.slice(-n);
  }

  range(session: number, start: number, stop: number): HistoryEntry[] {
    const s = session <= 0 ? this.session + session : session;
    return this.entries.filter((e) => e.session === s && e.line >= start && (stop <= 0 || e.line < stop));
  }

  search(pattern: string, n: number, unique: boolean): HistoryEntry[] {
    const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 's');
    let hits = this.entries.filter((e) => re.test(e.input));
    if (unique) hits = hits.filter((e, i) => hits.findIndex((x) => x.input === e.input) === i);
    return n > 0 ? hits.slice(-n) : hits;
  }
}

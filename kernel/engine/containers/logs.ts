// Reading a container's json-file log, optionally following it while the
// container runs.
import * as fs from 'fs';
import * as path from 'path';
import { Container } from './types';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  time: string;
  text: string;
}

export interface LogOptions {
  follow: boolean;
  tail?: number; // last N entries; undefined = all
  isRunning: () => boolean;
}

function parse(lines: string[]): LogEntry[] {
  const out: LogEntry[] = [];
  for (const l of lines) {
    if (!l) continue;
    try {
      const j = JSON.parse(l) as { log: string; stream: 'stdout' | 'stderr'; time: string };
      out.push({ stream: j.stream, time: j.time, text: j.log });
    } catch {
      /* a torn last line while the shim writes; it is read again next round */
    }
  }
  return out;
}

export async function* readLogs(c: Container, opts: LogOptions): AsyncGenerator<LogEntry> {
  const file = path.join(c.bundle, `${c.record.Id}-json.log`);
  let offset = 0;
  let first = true;
  for (;;) {
    let data = '';
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size > offset) {
          const buf = Buffer.alloc(size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          const text = buf.toString('utf8');
          const end = text.lastIndexOf('\n') + 1; // only whole lines
          data = text.slice(0, end);
          offset += Buffer.byteLength(data);
        }
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      /* no log yet */
    }
    let entries = parse(data.split('\n'));
    if (first && opts.tail !== undefined) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
    first = false;
    yield* entries;
    if (!opts.follow) return;
    if (!opts.isRunning()) {
      if (data === '') return;
      continue; // drain what the shim wrote just before exiting
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

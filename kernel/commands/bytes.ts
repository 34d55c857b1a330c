// Byte streams between a command and its front end: a named file, or the
// front end's own stdio where it has one. A notebook has none, so the
// command asks for a file instead of writing a tar into the kernel's stdout.
import * as fs from 'fs';
import { BerthError } from '../engine';
import { Io } from './types';

export function bytesTo(io: Io, file: string | undefined, what: string, command: string): NodeJS.WritableStream {
  if (file) return fs.createWriteStream(file);
  const out = io.bytesOut?.();
  if (out) return out;
  if (io.bytesOut) throw new BerthError(`refusing to write ${what} to a terminal; use -o FILE or redirect the output`);
  throw new BerthError(`${command} writes ${what}, which a notebook cell cannot hold: name a file with -o FILE`);
}

export function bytesFrom(io: Io, file: string | undefined, how: string, command: string): NodeJS.ReadableStream {
  if (file) {
    if (!fs.existsSync(file)) throw new BerthError(`open ${file}: no such file or directory`, 'not-found');
    return fs.createReadStream(file);
  }
  const input = io.bytesIn?.();
  if (input) return input;
  throw new BerthError(`${command} has no stdin to read here: ${how}`);
}

export async function textFrom(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

// The cell grammar: one command per line, `\` continues a line, shell-style
// quoting, `%` magics, and lines pasted from Docker tutorials. Cell magics
// (%%run, %%file, %%build) take the rest of the cell as their body.
import { BerthError } from '../engine';

export type CellLine = { kind: 'command'; argv: string[]; text: string };

export interface CellMagic {
  kind: 'cell-magic';
  name: string;
  argv: string[];
  body: string;
}

export type ParsedCell = { kind: 'lines'; lines: CellLine[] } | CellMagic;

export class CellSyntaxError extends BerthError {}

// Splits a command line as a POSIX shell would (quotes, escapes; no expansion).
export function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CellSyntaxError(`unterminated quote in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      inWord = true;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) i++;
        cur += line[i++];
      }
      if (i >= line.length) throw new CellSyntaxError(`unterminated quote in: ${line}`);
      i++;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

// "%run x", "docker run x", "docker container run x", "!docker run x" -> ["run", "x"]
export function commandArgv(text: string): string[] | undefined {
  let t = text.trim();
  if (t.startsWith('!')) t = t.slice(1).trim();
  if (t.startsWith('%') && !t.startsWith('%%')) return shellWords(t.slice(1));
  const words = shellWords(t);
  if (words[0] === 'docker' || words[0] === 'berth') return words.slice(1);
  return undefined;
}

export function parseCell(code: string): ParsedCell {
  const lines = code.replace(/\r\n/g, '\n').split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0 && lines[first].trim().startsWith('%%')) {
    const head = lines[first].trim().slice(2);
    const argv = shellWords(head);
    return { kind: 'cell-magic', name: argv[0] ?? '', argv: argv.slice(1), body: lines.slice(first + 1).join('\n') };
  }
  const logical: string[] = [];
  let acc = '';
  for (const raw of lines) {
    if (/\\\s*$/.test(raw)) {
      acc += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    logical.push(acc + raw);
    acc = '';
  }
  if (acc) logical.push(acc);
  const out: CellLine[] = [];
  for (const text of logical) {
    const t = text.trim();
    if (!t || t.startsWith('#')) continue;
    const argv = commandArgv(t);
    if (!argv) {
      throw new CellSyntaxError(`cannot read "${t.length > 60 ? t.slice(0, 57) + '...' : t}": write one command per line, as %run IMAGE COMMAND, %ps -a, %images or a docker command line (docker run ...); %help lists the commands`);
    }
    out.push({ kind: 'command', argv, text: t });
  }
  return { kind: 'lines', lines: out };
}

export function isComplete(code: string): 'complete' | 'incomplete' | 'invalid' {
  const trimmed = code.replace(/\s+$/, '');
  if (/\\$/.test(trimmed)) return 'incomplete';
  if (/^\s*%%\S+/.test(code) && !code.includes('\n')) return 'incomplete';
  try {
    parseCell(code);
  } catch (e) {
    if (e instanceof CellSyntaxError && /unterminated quote/.test(e.message)) return 'incomplete';
    return 'invalid';
  }
  return 'complete';
}

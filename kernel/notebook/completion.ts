// complete_request and inspect_request for cells: command names, flags,
// image and container names; a command's help for inspection.
import { commandArgv, shellWords } from '../commands/cell';
import { commandNames, helpFor, loadCommand } from '../commands/registry';
import type { Engine } from '../engine';
import type { CompleteReply } from '../jupyter/interpreter-api';
import type { MimeBundle } from '../jupyter/messages';

export function complete(engine: Engine, code: string, cursorPos: number): CompleteReply {
  const before = code.slice(0, cursorPos);
  const line = before.slice(before.lastIndexOf('\n') + 1);
  const token = /(\S*)$/.exec(line)![1];
  const start = cursorPos - token.length;
  let candidates: string[];
  if (line.trim().split(/\s+/).length <= 1) {
    const prefix = token.startsWith('%%') ? '%%' : token.startsWith('%') ? '%' : '';
    candidates = (prefix === '%%' ? ['run', 'file', 'build'] : [...commandNames(), 'help', 'record']).map((n) => prefix + n);
  } else if (token.startsWith('-')) {
    let argv: string[] = [];
    try {
      argv = commandArgv(line) ?? [];
    } catch {
      /* unfinished quote */
    }
    const cmd = argv[0] ? loadCommand(argv[0]) : undefined;
    candidates = (cmd?.flags ?? []).flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]);
  } else {
    candidates = [
      ...engine.images.list().flatMap((i) => i.refs.map((r) => r.replace(/:latest$/, ''))),
      ...engine.containers.list(true).map((c) => c.record.Name),
    ];
  }
  const matches = [...new Set(candidates.filter((c) => c.startsWith(token)))].sort();
  return { matches, cursor_start: start, cursor_end: cursorPos };
}

export function inspect(code: string, cursorPos: number): MimeBundle | undefined {
  const line = code.slice(code.lastIndexOf('\n', cursorPos - 1) + 1).split('\n')[0];
  let argv: string[] = [];
  try {
    argv = shellWords(line.replace(/^\s*%%?/, ''));
  } catch {
    return undefined;
  }
  if (argv[0] === 'docker' || argv[0] === 'berth') argv = argv.slice(1);
  const cmd = argv[0] ? loadCommand(argv[0]) : undefined;
  if (!cmd) return undefined;
  return { 'text/plain': helpFor(cmd).replace(/berth /g, '%') };
}

// The content of the replies that need no interpreter call: kernel_info,
// history, and the cursor arithmetic of complete and inspect.
import { History } from './history';
import { Interpreter } from './interpreter-api';
import { PROTOCOL_VERSION } from './messages';

type Content = Record<string, unknown>;

export function codePoints(s: string): number {
  return [...s].length;
}

// cursor_pos counts Unicode code points; JavaScript strings count UTF-16 units.
export function toUtf16Offset(s: string, cursor: number): number {
  let units = 0;
  let i = 0;
  for (const ch of s) {
    if (i++ >= cursor) break;
    units += ch.length;
  }
  return units;
}

export function kernelInfo(i: Interpreter): Content {
  return {
    status: 'ok',
    protocol_version: PROTOCOL_VERSION,
    implementation: i.implementation,
    implementation_version: i.implementationVersion,
    language_info: i.languageInfo,
    banner: i.banner,
    help_links: [{ text: 'Berth commands', url: 'https://docs.docker.com/reference/cli/docker/' }],
    debugger: false,
  };
}

export function historyReply(history: History, c: Content): Array<[number, number, string | [string, string | null]]> {
  const n = Number(c.n ?? 10);
  let entries;
  if (c.hist_access_type === 'range') entries = history.range(Number(c.session ?? 0), Number(c.start ?? 0), Number(c.stop ?? 0));
  else if (c.hist_access_type === 'search') entries = history.search(String(c.pattern ?? '*'), n, Boolean(c.unique));
  else entries = history.tail(n);
  return entries.map((e) => [e.session, e.line, c.output ? [e.input, e.output ?? null] : e.input]);
}

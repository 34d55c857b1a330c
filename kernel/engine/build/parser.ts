// The Dockerfile parser: parser directives (escape), comments, line
// continuations, exec (JSON) and shell forms, here-documents and --flags.
// Every error names the line, as BuildKit's parser does.
import { BerthError, BuildError } from '../errors';

export class DockerfileError extends BuildError {
  constructor(line: number, message: string) {
    super(`Dockerfile:${line}: ${message}`);
  }
}

export interface Heredoc {
  name: string;
  content: string;
  expand: boolean; // <<EOF expands variables, <<"EOF" does not
}

export interface Instruction {
  line: number;
  cmd: string; // upper case: RUN, COPY, ...
  flags: Record<string, string>; // --from=..., --chown=...
  json: string[] | undefined; // exec form
  rest: string; // the text after flags, continuations joined
  heredocs: Heredoc[];
  original: string; // as written (continuations joined), for history and messages
}

export const KNOWN = new Set([
  'FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'COPY', 'ADD', 'ENV', 'ARG', 'WORKDIR', 'USER', 'EXPOSE', 'VOLUME', 'LABEL',
  'MAINTAINER', 'SHELL', 'STOPSIGNAL', 'HEALTHCHECK', 'ONBUILD',
]);
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);

function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* not JSON: the shell form, as docker treats it */
  }
  return undefined;
}

export function parseDockerfile(text: string): Instruction[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let escape = '\\';
  // Parser directives: only at the very top, before any other line.
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) break;
    if (m[1].toLowerCase() === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(i + 1, `invalid escape token '${m[2]}' does not validate: use \\ or \``);
      escape = m[2];
    }
  }
  const out: Instruction[] = [];
  while (i < lines.length) {
    const startLine = i + 1;
    let raw = lines[i++];
    if (/^\s*(#|$)/.test(raw)) continue;
    // Join continuation lines; comment lines inside a continuation are dropped.
    while (raw.replace(/\s+$/, '').endsWith(escape) && i <= lines.length) {
      raw = raw.replace(/\s+$/, '').slice(0, -1);
      while (i < lines.length && /^\s*#/.test(lines[i])) i++;
      if (i >= lines.length) break;
      raw += lines[i++];
    }
    const m = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(raw);
    if (!m) continue;
    const cmd = m[1].toUpperCase();
    if (!KNOWN.has(cmd)) throw new DockerfileError(startLine, `unknown instruction: ${m[1]}`);
    let rest = (m[2] ?? '').trim();
    const flags: Record<string, string> = {};
    if (cmd !== 'ONBUILD') {
      let fm: RegExpExecArray | null;
      while ((fm = /^--([a-zA-Z-]+)(?:=(\S*))?\s*/.exec(rest))) {
        if (cmd === 'HEALTHCHECK' || ['FROM', 'COPY', 'ADD', 'RUN'].includes(cmd)) {
          flags[fm[1]] = fm[2] ?? 'true';
          rest = rest.slice(fm[0].length);
        } else {
          break;
        }
      }
    }
    const heredocs: Heredoc[] = [];
    if (HEREDOC_INSTRUCTIONS.has(cmd)) {
      const re = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
      let hm: RegExpExecArray | null;
      while ((hm = re.exec(rest))) {
        const name = hm[3];
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = lines[i++];
          if ((hm[1] ? l.replace(/^\t+/, '') : l) === name) {
            closed = true;
            break;
          }
          body.push(hm[1] ? l.replace(/^\t+/, '') : l);
        }
        if (!closed) throw new DockerfileError(startLine, `unterminated here-document <<${name}: end it with a line holding only ${name}`);
        heredocs.push({ name, content: body.join('\n') + '\n', expand: hm[2] === '' });
      }
    }
    const needsArgs = !['HEALTHCHECK'].includes(cmd);
    if (needsArgs && rest === '' && heredocs.length === 0) throw new DockerfileError(startLine, `${cmd} requires at least one argument`);
    out.push({ line: startLine, cmd, flags, json: parseJsonArray(rest), rest, heredocs, original: `${cmd} ${raw.trim().slice(m[1].length).trim()}`.trim() });
  }
  if (!out.some((x) => x.cmd === 'FROM')) throw new DockerfileError(1, 'no FROM instruction: a Dockerfile starts with FROM IMAGE (or FROM scratch)');
  const first = out.find((x) => x.cmd !== 'ARG');
  if (first && first.cmd !== 'FROM') throw new DockerfileError(first.line, `${first.cmd} before FROM: only ARG may come before the first FROM`);
  return out;
}

// ${VAR}, $VAR, ${VAR:-default}, ${VAR:+alternative}; "\$" is a literal $.
export function expand(text: string, env: Map<string, string>, escape = '\\'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === escape && text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (ch !== '$') {
      out += ch;
      continue;
    }
    if (text[i + 1] === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) {
        out += text.slice(i);
        break;
      }
      const inner = text.slice(i + 2, end);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(inner);
      if (!m) throw new BerthError(`bad substitution: \${${inner}}`);
      const v = env.get(m[1]);
      if (m[2] === '-') out += v ? v : m[3];
      else if (m[2] === '+') out += v ? m[3] : '';
      else out += v ?? '';
      i = end;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) {
      out += '$';
      continue;
    }
    out += env.get(m[0]) ?? '';
    i += m[0].length;
  }
  return out;
}

// Splits KEY=VALUE pairs with shell-style quotes (ENV, LABEL, ARG).
export function keyValues(text: string, line: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const ch = s[i];
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\' && quote === '"' && i + 1 < s.length) word += s[++i];
        else word += ch;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\' && i + 1 < s.length) word += s[++i];
      else if (/\s/.test(ch)) break;
      else word += ch;
    }
    if (quote) throw new DockerfileError(line, `unterminated quote in: ${text}`);
    if (!word) continue;
    const eq = word.indexOf('=');
    if (eq <= 0) throw new DockerfileError(line, `expected KEY=VALUE, got "${word}"`);
    out.push([word.slice(0, eq), word.slice(eq + 1)]);
  }
  return out;
}

// The Dockerfile parser, first of three steps (parser → typed instructions
// → dispatch). It turns text into nodes: parser directives, comments, line
// continuations, --flags before the arguments and here-documents, with
// BuildKit's rules for each. It does not interpret arguments; instructions.ts
// does that per instruction. Every error names the line.
import { BuildError } from '../errors';
import { ShellLexer } from './shell-lexer';

export class DockerfileError extends BuildError {
  constructor(line: number, message: string) {
    super(`Dockerfile:${line}: ${message}`);
  }
}

export interface Heredoc {
  name: string;
  content: string; // every body line with its newline; empty when the body is
  expand: boolean; // <<EOF expands variables, <<"EOF" (any quoted part) does not
  chomp: boolean; // <<-EOF: leading tabs are stripped where the body is used (heredocBody)
  fd: number | undefined; // 3<<EOF
}

export interface Node {
  line: number; // first line, 1-based
  endLine: number;
  cmd: string; // upper case: RUN, COPY, ... (unknown ones too: instructions.ts refuses them)
  keyword: string; // as written
  flagWords: string[]; // the words before the arguments, in order: "--mount=...", "--mount=..."
  flags: Record<string, string>; // the same by name (the last of a repeated one; "true" for a bare --flag)
  args: string; // the text after the flags, continuations joined
  rest: string; // the same (the name earlier versions of this parser used)
  json: string[] | undefined; // the exec (JSON) form, where the instruction takes one
  heredocs: Heredoc[];
  original: string; // the instruction as written, continuations joined
}

// The nodes in order, with what the file's directives and continuations said.
export type ParsedFile = Node[] & { nodes: Node[]; escape: string; warnings: string[] };

// Instructions whose arguments may be a JSON array (BuildKit's parseMaybeJSON
// and parseMaybeJSONToList); for the others a leading "[" is just text.
const JSON_FORMS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);

const HEREDOC_COMMANDS = new Set(['RUN', 'COPY', 'ADD']);
const DIRECTIVES = new Set(['escape', 'syntax', 'check']);

const isComment = (line: string) => /^\s*#/.test(line);
const isBlank = (line: string) => line.trim() === '';

// Parser directives sit at the very top; the first other line ends them.
class Directives {
  escape = '\\';
  private done = false;
  private seen = new Set<string>();

  read(line: string, lineNo: number): boolean {
    if (this.done) return false;
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(line);
    if (!m || !DIRECTIVES.has(m[1].toLowerCase())) {
      this.done = true;
      return false;
    }
    const key = m[1].toLowerCase();
    if (this.seen.has(key)) throw new DockerfileError(lineNo, `only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(lineNo, `invalid escape token '${m[2]}' does not validate: use \\ or \``);
      this.escape = m[2];
    }
    return true;
  }

  // An escape character ending a line joins the next one, unless it is
  // itself escaped ("\\" at the end is a literal backslash).
  continuation(line: string): [string, boolean] {
    const e = this.escape.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    const re = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
    if (!re.test(line)) return [line, true];
    return [line.replace(re, '$1'), false];
  }
}

// The words before the arguments that start with "--"; "--" alone ends
// them. Quotes group and a backslash escapes, as in BuildKit.
function splitFlags(text: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (!text.startsWith('--', i)) return { flags, rest: text.slice(i) };
    let word = '';
    let quote = '';
    let quoted = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === quote) quote = '';
        else if (c === '\\' && i + 1 < text.length) word += text[++i];
        else if (c !== '\\') word += c;
        continue;
      }
      if (/\s/.test(c)) break;
      if (c === '"' || c === "'") {
        quote = c;
        quoted = true;
      } else if (c === '\\') {
        if (i + 1 < text.length) word += text[++i];
      } else word += c;
    }
    if (word === '--' && !quoted) return { flags, rest: text.slice(i).replace(/^\s+/, '') };
    flags.push(word);
  }
}

// Here-documents named on the line: a word (after quote-preserving
// lexing) of the form [N]<<[-]NAME, or [N]<<[-] followed by NAME as the next
// word. A quoted part of NAME turns expansion off.
function heredocNames(line: string, escape: string): Heredoc[] {
  const raw = new ShellLexer({ escape, rawQuotes: true, rawEscapes: true, skipUnset: true });
  let words: string[];
  try {
    words = raw.words(line, new Map());
  } catch {
    return []; // an unterminated quote: no here-document can start inside it
  }
  const out: Heredoc[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (/^\d*<<-?$/.test(w) && i + 1 < words.length) w += words[++i];
    const h = parseHeredoc(w);
    if (h) out.push(h);
  }
  return out;
}

// One [N]<<[-]NAME word, or undefined when it is not one. NAME may be
// quoted in part ('EOF', E"O"F): the body is then not expanded.
export function parseHeredoc(word: string): Heredoc | undefined {
  const m = /^(\d*)<<(-?)\s*([^<]*)$/.exec(word);
  if (!m || !m[3]) return undefined;
  const plain = new ShellLexer({ skipUnset: true }).words(m[3], new Map());
  if (plain.length !== 1) return undefined;
  const rawName = new ShellLexer({ rawQuotes: true, skipUnset: true }).words(m[3], new Map());
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: plain[0], content: '', expand: quotes(plain[0]) === quotes(rawName[0] ?? ''), chomp: m[2] === '-', fd: m[1] ? Number(m[1]) : undefined };
}

// <<-NAME: the body's leading tabs go, on every line (applied where the
// body is used; the parsed content keeps them, as BuildKit's does).
export function heredocBody(h: Heredoc): string {
  return h.chomp ? h.content.replace(/^\t+/gm, '') : h.content;
}

// Whether the arguments are a JSON array of strings (the exec form). A JSON
// array holding anything else is an error, not the shell form.
export function jsonArgs(args: string, line: number): string[] | undefined {
  const t = args.trimStart();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined; // not JSON: the shell form, as docker treats it
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new DockerfileError(line, 'when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

export function parseDockerfile(text: string): ParsedFile {
  const lines = text.replace(/^\uFEFF/, '').split(/(?<=\n)/);
  const d = new Directives();
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let i = 0;
  const strip = (l: string) => l.replace(/\r?\n$/, '');
  while (i < lines.length) {
    const lineNo = i + 1;
    const first = strip(lines[i++]);
    if (d.read(first.trimStart(), lineNo)) continue;
    if (isComment(first)) continue;
    let [joined, end] = d.continuation(first.trimStart());
    if (end && joined === '') continue;
    let emptyContinuation = false;
    while (!end && i < lines.length) {
      const next = strip(lines[i++]);
      // Comment and blank lines inside a continuation are skipped, not ends.
      if (isComment(next)) continue;
      if (isBlank(next)) {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, end] = d.continuation(next);
      joined += part;
    }
    if (emptyContinuation) warnings.push(`Dockerfile:${lineNo}: empty continuation line found in: ${joined.trim()}`);
    const m = /^(\S+)(?:[\t\v\f\r ]+([\s\S]*))?$/.exec(joined.trim());
    if (!m) continue;
    const cmd = m[1].toUpperCase();
    const { flags, rest } = splitFlags(m[2] ?? '');
    const args = rest.trim();
    const flagMap: Record<string, string> = {};
    for (const f of flags) {
      const eq = f.indexOf('=');
      flagMap[(eq < 0 ? f : f.slice(0, eq)).replace(/^--/, '')] = eq < 0 ? 'true' : f.slice(eq + 1);
    }
    // A JSON array of anything but strings is an error here, as in BuildKit's parser.
    const json = JSON_FORMS.has(cmd) ? jsonArgs(args, lineNo) : undefined;
    // So is an ENV or LABEL that is neither KEY VALUE nor KEY=VALUE...
    if (cmd === 'ENV' || cmd === 'LABEL') nameValues({ cmd, args, line: lineNo }, d.escape);
    const node: Node = { line: lineNo, endLine: i, cmd, keyword: m[1], flagWords: flags, flags: flagMap, args, rest: args, json, heredocs: [], original: joined.trim() };
    // ONBUILD's trigger may hold a here-document too.
    const inner = cmd === 'ONBUILD' ? /^(\S+)\s*([\s\S]*)$/.exec(node.args) : null;
    const hereCmd = inner ? inner[1].toUpperCase() : cmd;
    const hereArgs = inner ? splitFlags(inner[2]).rest : node.args;
    if (HEREDOC_COMMANDS.has(hereCmd) && joined.includes('<<') && !jsonArgs(hereArgs, lineNo)) {
      for (const h of heredocNames(joined, d.escape)) {
        let closed = false;
        while (i < lines.length) {
          const body = lines[i++];
          const candidate = strip(body);
          if ((h.chomp ? candidate.replace(/^\t+/, '') : candidate) === h.name) {
            closed = true;
            break;
          }
          h.content += body;
        }
        if (!closed) throw new DockerfileError(lineNo, `unterminated heredoc <<${h.name}: end it with a line holding only ${h.name}`);
        node.endLine = i;
        node.heredocs.push(h);
      }
    }
    nodes.push(node);
  }
  if (!nodes.length) throw new DockerfileError(lines.length, 'file with no instructions');
  return Object.assign([...nodes], { nodes, escape: d.escape, warnings });
}

// Expands $VAR, ${VAR...} and quotes in text as a Dockerfile word (the
// lexer's word(); kept under the name earlier versions exported).
export function expand(text: string, env: ReadonlyMap<string, string> | Record<string, string>, escape = '\\'): string {
  const vars = env instanceof Map ? env : new Map(Object.entries(env));
  return new ShellLexer({ escape }).word(text, vars);
}

// BuildKit's word grouping for ENV, LABEL and ARG: words split at blanks
// outside quotes, quotes and escapes kept for the lexer to remove later.
export function quotedWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === escape && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += c + chars[++i];
        continue;
      }
      word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    if (c === escape) {
      if (i + 1 === chars.length) continue;
      word += c + chars[++i];
      continue;
    }
    word += c;
  }
  if (inWord) words.push(word);
  return words;
}

export interface KeyValue {
  key: string;
  value: string; // as written; expanded at dispatch
}

// ENV and LABEL: "KEY=VALUE ..." or the old "KEY VALUE" (one pair, the rest
// of the line is the value). Which form is decided by the first word.
export function nameValues(node: Pick<Node, 'cmd' | 'args' | 'line'>, escape: string): KeyValue[] {
  const words = quotedWords(node.args, escape);
  if (!words.length) throw new DockerfileError(node.line, `${node.cmd} requires at least one argument`);
  if (!words[0].includes('=')) {
    const m = /^(\S+)[\t\v\f\r ]+([\s\S]+)$/.exec(node.args);
    if (!m) throw new DockerfileError(node.line, `${node.cmd} must have two arguments: ${node.cmd} KEY VALUE or ${node.cmd} KEY=VALUE`);
    return [{ key: m[1], value: m[2] }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new DockerfileError(node.line, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (eq === 0) throw new DockerfileError(node.line, `${node.cmd} names can not be blank`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

// Word expansion as BuildKit's shell lexer does it for Dockerfile
// instructions: quote removal, the escape character, $NAME and ${NAME} with
// the :- - :+ + :? ? # ## % %% / // forms, nested expansions in operands, and
// word splitting after expansion that respects quotes. A positional or
// special parameter ($1, $@, $#...) is never set, so it expands to nothing.
import { BuildError } from '../errors';

export class ExpansionError extends BuildError {}

export interface LexOptions {
  escape?: string; // '\\' or '`' (the Dockerfile's escape directive)
  rawQuotes?: boolean; // keep the quote characters (here-document names)
  rawEscapes?: boolean; // keep the escape characters
  skipUnset?: boolean; // leave $NAME as written when NAME is unset
}

export interface Expanded {
  word: string; // the whole text, expanded, quotes removed
  words: string[]; // the same split at unquoted blanks
}

const SPECIAL = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const isBlank = (c: string) => /\s/.test(c);
const isNameChar = (c: string) => /[\p{L}\p{N}_]/u.test(c);

// Collects the split words as characters arrive; quoted or escaped
// characters never split. An empty word (a lone "") is dropped, as BuildKit
// drops it.
class Words {
  private cur = '';
  private inWord = false;
  readonly list: string[] = [];

  char(c: string): void {
    if (isBlank(c)) {
      if (this.inWord) this.flush();
    } else this.raw(c);
  }

  raw(s: string): void {
    this.cur += s;
    this.inWord = true;
  }

  text(s: string): void {
    for (const c of s) this.char(c);
  }

  flush(): string[] {
    if (this.inWord && this.cur) this.list.push(this.cur);
    this.cur = '';
    this.inWord = false;
    return this.list;
  }
}

class Scan {
  private readonly chars: string[];
  private pos = 0;

  constructor(text: string) {
    this.chars = [...text];
  }

  peek(): string | undefined {
    return this.chars[this.pos];
  }

  next(): string | undefined {
    return this.chars[this.pos++];
  }
}

export class ShellLexer {
  private readonly escape: string;

  constructor(private readonly opts: LexOptions = {}) {
    this.escape = opts.escape ?? '\\';
  }

  // The text as one word: expansions and quote removal, blanks kept.
  word(text: string, env: ReadonlyMap<string, string>): string {
    return this.process(text, env).word;
  }

  // The text split into words after expansion (COPY sources, VOLUME, EXPOSE).
  words(text: string, env: ReadonlyMap<string, string>): string[] {
    return this.process(text, env).words;
  }

  process(text: string, env: ReadonlyMap<string, string>): Expanded {
    const run = new Run(this.escape, this.opts, env, new Scan(text));
    try {
      return run.until(undefined, !!this.opts.rawEscapes);
    } catch (e) {
      if (e instanceof ExpansionError) throw new ExpansionError(`failed to expand "${text}": ${e.message}`);
      throw e;
    }
  }
}

class Run {
  constructor(
    private readonly escape: string,
    private readonly opts: LexOptions,
    private readonly env: ReadonlyMap<string, string>,
    private readonly s: Scan,
  ) {}

  // Reads up to stop (consumed) or the end of the text.
  until(stop: string | undefined, rawEscapes: boolean): Expanded {
    let out = '';
    const words = new Words();
    for (let c = this.s.peek(); c !== undefined; c = this.s.peek()) {
      if (stop !== undefined && c === stop) {
        this.s.next();
        return { word: out, words: words.flush() };
      }
      if (c === '$') {
        const v = this.dollar();
        out += v;
        words.text(v); // an expansion outside quotes is split
        continue;
      }
      if (c === "'") {
        const v = this.single();
        out += v;
        words.raw(v);
        continue;
      }
      if (c === '"') {
        const v = this.double();
        out += v;
        words.raw(v);
        continue;
      }
      this.s.next();
      if (c === this.escape) {
        if (rawEscapes) {
          out += c;
          words.raw(c);
        }
        const n = this.s.next();
        if (n === undefined) break; // an escape at the very end is dropped
        out += n;
        words.raw(n);
        continue;
      }
      out += c;
      words.char(c);
    }
    if (stop !== undefined) throw new ExpansionError(`unexpected end of statement while looking for matching ${stop}`);
    return { word: out, words: words.flush() };
  }

  // '...': everything literal up to the next single quote.
  private single(): string {
    const q = this.s.next()!;
    let out = this.opts.rawQuotes ? q : '';
    for (;;) {
      const c = this.s.next();
      if (c === undefined) throw new ExpansionError('unexpected end of statement while looking for matching single-quote');
      if (c === "'") return this.opts.rawQuotes ? out + c : out;
      out += c;
    }
  }

  // "...": $ expands; the escape character escapes only " $ and itself and
  // is otherwise kept, as in sh.
  private double(): string {
    const q = this.s.next()!;
    let out = this.opts.rawQuotes ? q : '';
    for (;;) {
      const c = this.s.peek();
      if (c === undefined) throw new ExpansionError('unexpected end of statement while looking for matching double-quote');
      if (c === '"') {
        this.s.next();
        return this.opts.rawQuotes ? out + c : out;
      }
      if (c === '$') {
        out += this.dollar();
        continue;
      }
      this.s.next();
      if (c === this.escape) {
        if (this.opts.rawEscapes) out += c;
        const n = this.s.peek();
        if (n === undefined) continue;
        if (n === '"' || n === '$' || n === this.escape) {
          out += this.s.next();
          continue;
        }
        if (!this.opts.rawEscapes) out += c;
        continue;
      }
      out += c;
    }
  }

  private lookup(name: string): string | undefined {
    return this.env.get(name);
  }

  private name(): string {
    let name = '';
    for (let c = this.s.peek(); c !== undefined; c = this.s.peek()) {
      if (!name && /\d/.test(c)) {
        // $1, $12: positional parameters are never set
        while (this.s.peek() !== undefined && /\d/.test(this.s.peek()!)) name += this.s.next();
        return name;
      }
      if (!name && SPECIAL.has(c)) return this.s.next()!;
      if (!isNameChar(c)) break;
      name += this.s.next();
    }
    return name;
  }

  private dollar(): string {
    this.s.next(); // $
    if (this.s.peek() !== '{') {
      const name = this.name();
      if (!name) return '$';
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnset) return `$${name}`;
      return v ?? '';
    }
    this.s.next(); // {
    const first = this.s.peek();
    if (first === undefined) throw new ExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionError('syntax error: bad substitution');
    const name = this.name();
    let op = this.s.next();
    if (op === undefined) throw new ExpansionError("syntax error: missing '}'");
    if (op === '}') {
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnset) return `\${${name}}`;
      return v ?? '';
    }
    if (op === '/') return this.replace(name);
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      const n = this.s.next();
      if (n === undefined) throw new ExpansionError("syntax error: missing '}'");
      op = n;
    }
    if (!'+-?#%'.includes(op)) {
      throw new ExpansionError(`unsupported modifier (${nullIsUnset ? ':' : ''}${op}) in substitution`);
    }
    let operand: string;
    try {
      operand = this.until('}', op === '#' || op === '%').word;
    } catch (e) {
      if (this.s.peek() === undefined) throw new ExpansionError("syntax error: missing '}'");
      throw e;
    }
    const v = this.lookup(name);
    if (v === undefined && this.opts.skipUnset) return `\${${name}${nullIsUnset ? ':' : ''}${op}${operand}}`;
    const unset = v === undefined || (nullIsUnset && v === '');
    switch (op) {
      case '-':
        return unset ? operand : v!;
      case '+':
        return unset ? '' : operand;
      case '?':
        if (v === undefined) throw new ExpansionError(`${name}: ${operand || 'is not allowed to be unset'}`);
        if (nullIsUnset && v === '') throw new ExpansionError(`${name}: ${operand || 'is not allowed to be empty'}`);
        return v;
      default: {
        // # and % take the shortest match, ## and %% the longest
        const greedy = operand.startsWith(op);
        const pattern = greedy ? operand.slice(1) : operand;
        return op === '#' ? trimPrefix(v ?? '', pattern, greedy) : trimSuffix(v ?? '', pattern, greedy);
      }
    }
  }

  private replace(name: string): string {
    const all = this.s.peek() === '/';
    if (all) this.s.next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.until('/', true).word;
    } catch (e) {
      if (this.s.peek() === undefined) throw new ExpansionError("syntax error: missing '/' in ${}");
      throw e;
    }
    try {
      replacement = this.until('}', true).word;
    } catch (e) {
      if (this.s.peek() === undefined) throw new ExpansionError("syntax error: missing '}'");
      throw e;
    }
    const v = this.lookup(name);
    if (v === undefined && this.opts.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    const re = patternRegex(pattern, true, false, all);
    return (v ?? '').replace(re, () => replacement);
  }
}

// A shell pattern (* and ?, with \ escaping them) as a regular expression.
function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let re = anchored ? '^' : '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') re += greedy ? '[\\s\\S]*' : '[\\s\\S]*?';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue; // escaped only for ${...} syntax
      if (n !== '*' && n !== '?' && n !== '\\') throw new ExpansionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      re += `\\${n}`;
      i++;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re, global ? 'gu' : 'u');
}

function trimPrefix(value: string, pattern: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

// The suffix forms match the reversed pattern against the reversed value,
// so "shortest" and "longest" mean the same as for the prefix forms.
function trimSuffix(value: string, pattern: string, greedy: boolean): string {
  const rev = (s: string) => [...s].reverse().join('');
  const revPattern = reversePattern(pattern);
  const m = patternRegex(revPattern, greedy, true).exec(rev(value));
  return m ? rev(rev(value).slice(m[0].length)) : value;
}

// Reverses a pattern keeping each escape with the character it escapes.
function reversePattern(pattern: string): string {
  const units: string[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i + 1 < chars.length) {
      units.push(chars[i] + chars[i + 1]);
      i++;
    } else units.push(chars[i]);
  }
  return units.reverse().join('');
}

// The part of Go's text/template that docker's --format users write:
// {{.Field.Sub}}, {{.}}, pipelines ({{.Names | upper}}), the functions the
// docker CLI adds (json, join, split, lower, upper, title, truncate, pad,
// println, len, index), {{range}}, {{if}}/{{else}}, {{with}}, and literal
// text. A field that does not exist is an error, as in docker; a Go field
// name that differs from the JSON key (ID for "Id") reaches the same value.
import { BerthError } from '../engine';
import { textTable } from './table';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: string }
  | { kind: 'block'; op: 'range' | 'if' | 'with'; expr: string; body: Node[]; otherwise: Node[] };

const ALIASES: Record<string, string> = { ID: 'Id', Id: 'ID' };

function templateError(expr: string, why: string): BerthError {
  return new BerthError(`template: executing "{{${expr}}}": ${why}`);
}

function field(cur: unknown, key: string, expr: string): unknown {
  if (cur === null || cur === undefined) return undefined; // a nil pointer prints <no value>, as in Go
  if (typeof cur !== 'object') throw templateError(expr, `can't evaluate field ${key} in type ${typeof cur}`);
  const o = cur as Record<string, unknown>;
  if (key in o) return o[key];
  const alias = ALIASES[key];
  if (alias && alias in o) return o[alias];
  throw templateError(expr, `map has no entry for key "${key}"`);
}

// Go's default printing of values (fmt %v).
function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  }
  return String(v);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return !!v;
}

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: Array<Extract<Node, { kind: 'block' }> & { inElse: boolean }> = [];
  const out = () => {
    const top = stack[stack.length - 1];
    return top ? (top.inElse ? top.otherwise : top.body) : root;
  };
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    if (text) out().push({ kind: 'text', text });
    last = re.lastIndex;
    trimNext = !!m[3];
    const expr = m[2].trim();
    const block = /^(range|if|with)\s+([\s\S]+)$/.exec(expr);
    if (expr.startsWith('/*')) continue; // a comment
    if (block) {
      const node = { kind: 'block' as const, op: block[1] as 'range' | 'if' | 'with', expr: block[2], body: [], otherwise: [], inElse: false };
      out().push(node);
      stack.push(node);
    } else if (expr === 'else') {
      const top = stack[stack.length - 1];
      if (!top) throw new BerthError('template: {{else}} outside {{if}}, {{range}} or {{with}}');
      top.inElse = true;
    } else if (expr === 'end') {
      if (!stack.pop()) throw new BerthError('template: unexpected {{end}}');
    } else {
      out().push({ kind: 'expr', expr });
    }
  }
  let tail = template.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  if (tail) out().push({ kind: 'text', text: tail });
  if (stack.length) throw new BerthError(`template: unexpected EOF: {{${stack[stack.length - 1].op}}} without {{end}}`);
  return root;
}

// Words of one command: .Field.Paths, "strings", numbers, identifiers.
function tokens(cmd: string, expr: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\((?:[^()"]|"(?:[^"\\]|\\.)*")*\)|[^\s"`()]+)/g;
  for (let m = re.exec(cmd); m; m = re.exec(cmd)) out.push(m[1]);
  if (!out.length) throw templateError(expr, 'missing value for command');
  return out;
}

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  len: (v) => {
    if (Array.isArray(v) || typeof v === 'string') return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new BerthError('template: len of a value that is not a list, map or string');
  },
  join: (list, sep) => (Array.isArray(list) ? list.map(goString).join(String(sep)) : goString(list)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  title: (s) => String(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n) => [...String(s)].slice(0, Number(n)).join(''),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${String(s)}${' '.repeat(Number(r))}`,
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  print: (...a) => a.map(goString).join(''),
  printf: (fmt, ...a) => {
    let i = 0;
    return String(fmt).replace(/%([%sdvq])/g, (_m, c: string) => (c === '%' ? '%' : c === 'q' ? JSON.stringify(goString(a[i++])) : goString(a[i++])));
  },
  index: (v, ...keys) => keys.reduce((cur: unknown, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[String(k)] : undefined), v),
};

function term(tok: string, dot: unknown, expr: string): unknown {
  if (tok.startsWith('"')) return JSON.parse(tok) as string;
  if (tok.startsWith('`')) return tok.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
  if (tok === 'true' || tok === 'false') return tok === 'true';
  if (tok === '.') return dot;
  if (tok.startsWith('(')) return evaluate(tok.slice(1, -1), dot);
  if (tok.startsWith('.')) {
    let cur = dot;
    for (const key of tok.split('.').filter(Boolean)) cur = field(cur, key, expr);
    return cur;
  }
  throw templateError(expr, `function "${tok}" not defined`);
}

function evaluate(expr: string, dot: unknown): unknown {
  let piped: unknown[] = [];
  for (const cmd of expr.split(/\|(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const [head, ...rest] = tokens(cmd, expr);
    let value: unknown;
    if (FUNCS[head]) value = FUNCS[head](...rest.map((t) => term(t, dot, expr)), ...piped);
    else {
      value = term(head, dot, expr);
      if (typeof value === 'function') value = (value as (...a: unknown[]) => unknown)(...rest.map((t) => term(t, dot, expr)), ...piped);
      else if (rest.length || piped.length) throw templateError(expr, `${head} is not a function`);
    }
    piped = [value];
  }
  return piped[0];
}

function render(nodes: Node[], dot: unknown): string {
  let s = '';
  for (const n of nodes) {
    if (n.kind === 'text') s += n.text;
    else if (n.kind === 'expr') {
      const v = evaluate(n.expr, dot);
      s += typeof v === 'string' ? v : goString(v);
    } else {
      const v = evaluate(n.expr, dot);
      if (n.op === 'if') s += render(truthy(v) ? n.body : n.otherwise, dot);
      else if (n.op === 'with') s += truthy(v) ? render(n.body, v) : render(n.otherwise, dot);
      else {
        const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, x]) => x) : [];
        s += items.length ? items.map((item) => render(n.body, item)).join('') : render(n.otherwise, dot);
      }
    }
  }
  return s;
}

// docker writes \t and \n in a --format value as the characters.
function unescape(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function renderTemplate(template: string, data: unknown): string {
  return render(parse(unescape(template)), data);
}

// --format for a list command (ps, images, stats): "json" is one object per
// line, "table TEMPLATE" adds a header row and aligns columns, anything else
// is one template line per item. headers names each field's column.
export function formatList(format: string, rows: Array<Record<string, unknown>>, headers: Record<string, string>, defaultTable: string): string {
  if (format === 'json') return rows.map((r) => `${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'function' ? undefined : v))}\n`).join('');
  const table = /^table(\s|$)/.test(format);
  const body = table ? format.slice(5).trim() || defaultTable : format;
  const lines = rows.map((r) => renderTemplate(body, r));
  if (!table) return lines.map((l) => `${l}\n`).join('');
  // The header row: every field (a method like .Label too) gives its column name.
  const header = renderTemplate(body, new Proxy(headers, { get: (h, k) => (typeof k === 'string' ? () => h[k] ?? k.toUpperCase() : undefined), has: () => true }));
  const cells = (l: string) => l.split('\t');
  return textTable(cells(header), lines.map(cells));
}

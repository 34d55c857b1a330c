// The part of Go's text/template that `inspect --format` users write:
// {{.Field.Sub}}, {{.}}, {{json .Field}}, {{len .Field}}, {{.Field | json}},
// {{range .List}}...{{end}} (over arrays, or a map's values in key order),
// and literal text.
import { BerthError } from '../engine';

type Node = { kind: 'text'; text: string } | { kind: 'expr'; expr: string } | { kind: 'range'; expr: string; body: Node[] };

function unsupported(expr: string): never {
  throw new BerthError(`template: unsupported expression "{{${expr}}}"; use {{.Field}}, {{json .Field}}, {{len .Field}} or {{range .List}}...{{end}}`);
}

function lookup(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const key of path.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

// Go's default printing of values (fmt %v).
function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  }
  return String(v);
}

function parse(template: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ expr: string; body: Node[] }> = [];
  const out = () => (stack.length ? stack[stack.length - 1].body : root);
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) out().push({ kind: 'text', text: template.slice(last, m.index) });
    last = re.lastIndex;
    const expr = m[1].trim();
    if (expr.startsWith('range ')) {
      stack.push({ expr: expr.slice(6).trim(), body: [] });
    } else if (expr === 'end') {
      const r = stack.pop();
      if (!r) throw new BerthError('template: {{end}} without {{range}}');
      out().push({ kind: 'range', expr: r.expr, body: r.body });
    } else {
      out().push({ kind: 'expr', expr });
    }
  }
  if (last < template.length) out().push({ kind: 'text', text: template.slice(last) });
  if (stack.length) throw new BerthError('template: {{range}} without {{end}}');
  return root;
}

function evaluate(expr: string, dot: unknown): { value: unknown; json: boolean } {
  let e = expr;
  let fn = '';
  if (/^(json|len)\s+/.test(e)) {
    fn = e.split(/\s+/)[0];
    e = e.slice(fn.length).trim();
  } else if (/\|\s*(json|len)$/.test(e)) {
    fn = /\|\s*(json|len)$/.exec(e)![1];
    e = e.replace(/\|\s*(json|len)$/, '').trim();
  }
  if (!e.startsWith('.')) unsupported(expr);
  const v = e === '.' ? dot : lookup(dot, e);
  if (fn === 'len') {
    if (Array.isArray(v)) return { value: v.length, json: false };
    if (typeof v === 'string') return { value: v.length, json: false };
    if (v && typeof v === 'object') return { value: Object.keys(v).length, json: false };
    throw new BerthError(`template: len of ${e}: it is not a list, map or string`);
  }
  return { value: v, json: fn === 'json' };
}

function render(nodes: Node[], dot: unknown): string {
  let s = '';
  for (const n of nodes) {
    if (n.kind === 'text') s += n.text;
    else if (n.kind === 'expr') {
      const { value, json } = evaluate(n.expr, dot);
      s += json ? JSON.stringify(value ?? null) : goString(value);
    } else {
      const { value } = evaluate(n.expr, dot);
      const items = Array.isArray(value) ? value : value && typeof value === 'object' ? Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([, x]) => x) : [];
      for (const item of items) s += render(n.body, item);
    }
  }
  return s;
}

export function renderTemplate(template: string, data: unknown): string {
  return render(parse(template), data);
}

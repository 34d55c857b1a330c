// The part of Go's text/template that `inspect --format` users write:
// {{.Field.Sub}}, {{json .Field}}, {{.Field | json}} and literal text.
import { BerthError } from '../engine/errors';

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

export function renderTemplate(template: string, data: unknown): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => {
    let e = expr.trim();
    let asJson = false;
    if (e.startsWith('json ')) {
      asJson = true;
      e = e.slice(5).trim();
    } else if (/\|\s*json$/.test(e)) {
      asJson = true;
      e = e.replace(/\|\s*json$/, '').trim();
    }
    if (!e.startsWith('.')) throw new BerthError(`template: unsupported expression "{{${expr}}}"; use {{.Field}} or {{json .Field}}`);
    const v = lookup(data, e);
    return asJson ? JSON.stringify(v ?? null) : goString(v);
  });
}

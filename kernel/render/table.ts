// Tables as docker prints them (tabwriter: minimum cell width 10, padding 3,
// last column unpadded), with an HTML twin for notebooks.
import { htmlTable } from './html';

// What a command shows: always docker's text, and HTML where a notebook can use it.
export interface Rendered {
  text: string;
  html?: string;
}

export function table(header: string[], rows: string[][]): Rendered {
  return { text: textTable(header, rows), html: htmlTable(header, rows) };
}

export function textTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(10 - 3, ...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length + 3))).join('');
  return all.map((r) => line(r).replace(/\s+$/, '')).join('\n') + '\n';
}

// Plain-text tables laid out as docker's tabwriter does (minimum cell width
// 10, padding 3, last column unpadded).

export function textTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(10 - 3, ...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length + 3))).join('');
  return all.map((r) => line(r).replace(/\s+$/, '')).join('\n') + '\n';
}

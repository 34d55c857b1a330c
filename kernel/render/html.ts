// HTML tables for notebooks. Inline styles only: JupyterLab's sanitizer
// strips <style> elements and scripts.

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const TABLE = 'border-collapse:collapse;font-family:var(--jp-code-font-family,monospace);font-size:12px;margin:2px 0';
const TH = 'text-align:left;padding:3px 10px;border-bottom:2px solid #7a869a;white-space:nowrap';
const TD = 'text-align:left;padding:3px 10px;border-bottom:1px solid #dfe1e6;white-space:nowrap';

export function htmlTable(header: string[], rows: string[][], opts: { caption?: string } = {}): string {
  const head = header.map((h) => `<th style="${TH}">${escapeHtml(h)}</th>`).join('');
  const body = rows.length
    ? rows.map((r) => `<tr>${r.map((c) => `<td style="${TD}">${escapeHtml(c)}</td>`).join('')}</tr>`).join('')
    : `<tr><td style="${TD};color:#7a869a" colspan="${header.length}">(none)</td></tr>`;
  const caption = opts.caption ? `<caption style="text-align:left;font-weight:bold;padding:2px 0">${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="berth-table" style="${TABLE}">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

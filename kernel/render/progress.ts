// A progress bar (builds, pulls): text for terminals and logs, HTML with
// inline styles for notebooks (JupyterLab strips <style>).
import { escapeHtml } from './html';
import { Rendered } from './table';

export function progressBar(done: number, total: number, label: string): Rendered {
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  const html = `<div style="font-size:12px;color:#42526e">${escapeHtml(label)}</div><div style="width:320px;height:8px;background-color:#dfe1e6;border-radius:4px"><div style="width:${pct}%;height:8px;background-color:#2684ff;border-radius:4px"></div></div>`;
  return { text: `[${'#'.repeat(Math.round(pct / 5)).padEnd(20, '.')}] ${pct}% ${label}`, html };
}

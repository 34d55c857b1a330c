// Experiment records drawn: one run after a foreground run in a notebook, the
// list of a records file, and two runs compared field by field. The records
// themselves and their files belong to the engine (engine/records).
import { maskEnv, type ExperimentRecord } from '../engine';
import { escapeHtml } from './html';
import { Rendered, table } from './table';
import { bytesSize } from './units';

export function limitsText(l: ExperimentRecord['limits']): string {
  return [
    l.memory ? `memory ${bytesSize(l.memory)}` : '',
    l.cpus ? `cpus ${l.cpus}` : '',
    l.cpuShares ? `cpu-shares ${l.cpuShares}` : '',
    l.pids ? `pids ${l.pids}` : '',
    l.readOnly ? 'read-only' : '',
    `network ${l.network}`,
  ].filter(Boolean).join(', ');
}

const NOT_MEASURED = 'not measured';
const seconds = (s: number | null, sep = ' ') => (s === null || s === undefined ? NOT_MEASURED : `${s.toFixed(3)}${sep}s`);
const memory = (b: number | null) => (b === null || b === undefined ? NOT_MEASURED : bytesSize(b));

const clip = (s: string) => (s.length > 40 ? s.slice(0, 39) + '…' : s);
const quoteArgs = (a: string[]) => a.map((x) => (/\s/.test(x) || x === '' ? JSON.stringify(x) : x)).join(' ');

function kv(rows: Array<[string, string]>, accent = '#7a869a'): Rendered {
  const text = rows.map(([k, v]) => `${k.padEnd(13)} ${v}`).join('\n') + '\n';
  const td = 'padding:1px 10px;text-align:left;border:none;vertical-align:top';
  const html = `<table style="border-collapse:collapse;font-size:12px;color:#42526e;border-left:3px solid ${accent};margin:4px 0">${rows
    .map(([k, v]) => `<tr><th style="${td};font-weight:600">${escapeHtml(k)}</th><td style="${td};font-family:var(--jp-code-font-family,monospace);white-space:pre-wrap">${escapeHtml(v)}</td></tr>`)
    .join('')}</table>`;
  return { text, html };
}

// What a run's devices were: its GPUs (model, driver, peak GPU memory) and
// the device nodes and CDI devices it was given.
function devicesRows(e: ExperimentRecord): Array<[string, string]> {
  const d = e.devices;
  if (!d) return [];
  const rows: Array<[string, string]> = [];
  if (d.gpus.length) rows.push(['GPUs', d.gpus.map((g) => `${g.index}: ${g.model} (driver ${g.driver}), peak ${memory(g.peakMemory)} of ${bytesSize(g.memoryTotal)}`).join('\n')]);
  if (d.cdi.length || d.host.length) rows.push(['devices', [...d.host, ...d.cdi].join('\n')]);
  return rows;
}

export function renderExperiment(e: ExperimentRecord): Rendered {
  return kv([
    ['image', `${e.image} (${e.imageId.slice(0, 19)})`],
    ['command', quoteArgs(e.command)],
    ['limits', limitsText(e.limits)],
    ...(e.mounts.length ? [['mounts', e.mounts.join('\n')] as [string, string]] : []),
    ['exit code', `${e.exitCode}${e.oomKilled ? ' (OOM-killed)' : ''}`],
    ...(e.context ? [['ran on', `${e.context.kind} context ${e.context.name}: job ${e.context.jobId} on ${e.context.node || '?'}, partition ${e.context.partition || '?'}, queued ${seconds(e.context.queuedSeconds)}`] as [string, string]] : []),
    ['wall time', `${e.wallSeconds.toFixed(3)} s`],
    ['CPU time', seconds(e.cpuSeconds)],
    ['peak memory', memory(e.peakMemory)],
    ...devicesRows(e),
    ...(e.stdoutDigest ? [['stdout', `${e.stdoutDigest.slice(0, 19)} (${e.stdoutBytes} bytes)`] as [string, string]] : []),
  ]);
}

// One row per run, numbered from 1 as %records compare takes them.
export function renderRecords(records: ExperimentRecord[]): Rendered {
  return table(
    ['#', 'STARTED', 'IMAGE ID', 'COMMAND', 'EXIT', 'WALL', 'CPU', 'PEAK MEM', 'STDOUT'],
    records.map((r, i) => [
      String(i + 1),
      r.time.replace('T', ' ').slice(0, 19),
      r.imageId.replace('sha256:', '').slice(0, 12),
      quoteArgs(r.command).slice(0, 40),
      `${r.exitCode}${r.oomKilled ? ' OOM' : ''}`,
      `${r.wallSeconds.toFixed(3)}s`,
      seconds(r.cpuSeconds, ''),
      memory(r.peakMemory),
      r.stdoutDigest ? r.stdoutDigest.replace('sha256:', '').slice(0, 12) : '-',
    ]),
  );
}

// The devices and GPU models a run had, for comparing two runs.
function deviceSummary(e: ExperimentRecord): string {
  const d = e.devices;
  if (!d) return '-';
  return [...d.host, ...d.cdi, ...d.gpus.map((g) => `${g.model} (driver ${g.driver})`)].join(', ') || '-';
}

// Two runs side by side: what must match for a rerun to count as the same
// experiment (image, command, env, limits, mounts, exit code, stdout), and
// what is measured and may vary (times, memory).
export function renderComparison(a: ExperimentRecord, b: ExperimentRecord, ia: number, ib: number): Rendered {
  const same = (x: string, y: string) => (x === y ? 'same' : 'DIFFERENT');
  const pct = (x: number | null, y: number | null) => (x === null || y === null || x === 0 ? '' : ` (${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(0)}%)`);
  const fields: Array<[string, string, string, boolean]> = [
    ['image ID', a.imageId, b.imageId, true],
    ['command', quoteArgs(a.command), quoteArgs(b.command), true],
    ['env', a.env.join(' ') || '-', b.env.join(' ') || '-', true],
    ['limits', limitsText(a.limits), limitsText(b.limits), true],
    ['mounts', a.mounts.join(', ') || '-', b.mounts.join(', ') || '-', true],
    ...(a.devices || b.devices ? [['devices', deviceSummary(a), deviceSummary(b), true] as [string, string, string, boolean]] : []),
    ['exit code', String(a.exitCode), String(b.exitCode), true],
    ['stdout', a.stdoutDigest ?? '-', b.stdoutDigest ?? '-', true],
    ['wall time', `${a.wallSeconds.toFixed(3)} s`, `${b.wallSeconds.toFixed(3)} s${pct(a.wallSeconds, b.wallSeconds)}`, false],
    ['CPU time', seconds(a.cpuSeconds), `${seconds(b.cpuSeconds)}${pct(a.cpuSeconds, b.cpuSeconds)}`, false],
    ['peak memory', memory(a.peakMemory), `${memory(b.peakMemory)}${pct(a.peakMemory, b.peakMemory)}`, false],
  ];
  const identical = fields.filter((f) => f[3]).every(([, x, y]) => x === y);
  // Secrets are compared, never shown.
  const shown = (k: string, v: string, r: ExperimentRecord) => (k === 'env' && v !== '-' ? maskEnv(r.env, r.secretEnv).join(' ') : v);
  const t = table(
    ['FIELD', `RUN ${ia}`, `RUN ${ib}`, ''],
    fields.map(([k, x, y, must]) => [k, clip(shown(k, x, a)), clip(shown(k, y, b)), must ? same(x, y) : 'measured']),
  );
  const verdict = identical
    ? `Runs ${ia} and ${ib} are the same experiment: same image, command, env, limits and mounts, with the same exit code and stdout.\n`
    : `Runs ${ia} and ${ib} differ: see the rows marked DIFFERENT.\n`;
  return { text: t.text + verdict, html: `${t.html ?? ''}<p style="font-size:12px;font-weight:600;color:${identical ? '#006644' : '#bf2600'}">${escapeHtml(verdict)}</p>` };
}

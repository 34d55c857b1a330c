// The experiment record shown after a foreground run in a notebook: what
// ran, under which limits, and what it cost, so a rerun can be compared.
import { ContainerRecord, ExitInfo } from '../engine/containers/types';
import { escapeHtml } from './html';
import { Rendered } from './table';
import { bytesSize } from './units';

export interface ExperimentRecord {
  image: string;
  imageId: string;
  command: string[];
  limits: string;
  exitCode: number;
  oomKilled: boolean;
  wallSeconds: number;
  cpuSeconds: number;
  peakMemory: number;
}

export function experimentRecord(r: ContainerRecord, exit: ExitInfo, wallMs: number): ExperimentRecord {
  const h = r.HostConfig;
  const limits = [
    h.Memory ? `memory ${bytesSize(h.Memory)}` : '',
    h.NanoCpus ? `cpus ${h.NanoCpus / 1e9}` : '',
    h.CpuShares ? `cpu-shares ${h.CpuShares}` : '',
    h.PidsLimit ? `pids ${h.PidsLimit}` : '',
    h.ReadonlyRootfs ? 'read-only' : '',
    `network ${h.NetworkMode}`,
  ].filter(Boolean).join(', ');
  return {
    image: r.Config.Image,
    imageId: r.Image,
    command: [r.Path, ...r.Args],
    limits,
    exitCode: exit.exitCode,
    oomKilled: exit.oomKilled,
    wallSeconds: wallMs / 1000,
    cpuSeconds: exit.cpuNs / 1e9,
    peakMemory: exit.peakMemory,
  };
}

export function renderExperiment(e: ExperimentRecord): Rendered {
  const rows: Array<[string, string]> = [
    ['image', `${e.image} (${e.imageId.slice(0, 19)})`],
    ['command', e.command.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')],
    ['limits', e.limits],
    ['exit code', `${e.exitCode}${e.oomKilled ? ' (OOM-killed)' : ''}`],
    ['wall time', `${e.wallSeconds.toFixed(3)} s`],
    ['CPU time', `${e.cpuSeconds.toFixed(3)} s`],
    ['peak memory', bytesSize(e.peakMemory)],
  ];
  const text = rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n') + '\n';
  const td = 'padding:1px 10px;text-align:left;border:none';
  const html = `<table style="border-collapse:collapse;font-size:12px;color:#42526e;border-left:3px solid #7a869a;margin:4px 0">${rows
    .map(([k, v]) => `<tr><th style="${td};font-weight:600">${escapeHtml(k)}</th><td style="${td};font-family:var(--jp-code-font-family,monospace)">${escapeHtml(v)}</td></tr>`)
    .join('')}</table>`;
  return { text, html };
}

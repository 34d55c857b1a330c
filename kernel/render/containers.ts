// Text renderings of container results, column for column as docker's.
import { Container } from '../engine';
import { ProcessRow, StatsSample } from '../engine';
import { ago, bytesSize, ellipsis, humanDuration, humanSize } from './units';
import { Rendered, table } from './table';
import { escapeHtml } from './html';

export function statusText(c: Container, now = Date.now()): string {
  const s = c.state;
  if (s.Running) return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${s.Paused ? ' (Paused)' : ''}`;
  // A container whose supervisor was lost has no end time (docker's zero time).
  if (s.Status === 'exited') return Date.parse(s.FinishedAt) > 0 ? `Exited (${s.ExitCode}) ${ago(s.FinishedAt, now)}` : `Exited (${s.ExitCode})`;
  return 'Created';
}

export function commandText(c: Container, trunc: boolean): string {
  const full = [c.record.Path, ...c.record.Args].join(' ');
  return JSON.stringify(trunc ? ellipsis(full, 20) : full);
}

// "127.0.0.1:8080->80/tcp, 0.0.0.0:5000->5000/tcp", as docker ps shows ports.
export function portsText(c: Container): string {
  if (!c.state.Running) return '';
  return (c.shim?.Ports ?? []).map((p) => `${p.HostIp}:${p.HostPort}->${p.ContainerPort}/${p.Protocol}`).join(', ');
}

// docker ps --format's fields, by their Go names.
export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE',
  Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES', Label: 'LABEL',
};
export const PS_TABLE = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export function psRows(list: Container[], noTrunc: boolean): Array<Record<string, unknown>> {
  const now = Date.now();
  return list.map((c) => {
    const labels = c.record.Config.Labels ?? {};
    return {
      Command: commandText(c, !noTrunc),
      CreatedAt: new Date(c.record.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
      ID: noTrunc ? c.record.Id : c.record.Id.slice(0, 12),
      Image: c.record.Config.Image,
      Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
      LocalVolumes: String(c.record.Mounts.filter((m) => m.Type === 'volume').length),
      Mounts: c.record.Mounts.map((m) => (m.Type === 'volume' ? (m.Name ?? '') : m.Source)).join(','),
      Names: c.record.Name,
      Networks: Object.keys(c.record.NetworkSettings?.Networks ?? {}).join(',') || c.record.HostConfig.NetworkMode,
      Ports: portsText(c),
      RunningFor: ago(c.record.Created, now),
      Size: 'N/A',
      State: c.state.Status,
      Status: statusText(c, now),
      Label: (key: unknown) => labels[String(key)] ?? '',
    };
  });
}

export function psTable(list: Container[], opts: { quiet: boolean; noTrunc: boolean }): Rendered {
  if (opts.quiet) return { text: list.map((c) => (opts.noTrunc ? c.record.Id : c.record.Id.slice(0, 12)) + '\n').join('') };
  const now = Date.now();
  return table(
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    list.map((c) => [
      opts.noTrunc ? c.record.Id : c.record.Id.slice(0, 12),
      c.record.Config.Image,
      commandText(c, !opts.noTrunc),
      ago(c.record.Created, now),
      statusText(c, now),
      portsText(c),
      c.record.Name,
    ]),
  );
}

function hhmmss(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}

export function topTable(rows: ProcessRow[]): Rendered {
  return table(
    ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    rows.map((r) => [
      r.user,
      String(r.pid),
      String(r.ppid),
      String(r.cpuPercent),
      `${String(r.startTime.getHours()).padStart(2, '0')}:${String(r.startTime.getMinutes()).padStart(2, '0')}`,
      r.tty,
      hhmmss(r.cpuSeconds),
      r.command,
    ]),
  );
}

// A figure the cgroup could not give is said to be so, never shown as 0.
const known = (v: number | null, show: (v: number) => string) => (v === null ? 'not measured' : show(v));

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
  GPUPerc: 'GPU %', GPUMemUsage: 'GPU MEM USAGE / LIMIT',
};

// Per GPU, "0: 37%" and "0: 1.2GiB / 80GiB" (the memory the container's own
// processes hold); "-" for a container without GPUs.
function gpuCells(s: StatsSample): { perc: string; mem: string } {
  if (!s.gpus) return { perc: '-', mem: '-' };
  if (!s.gpus.length) return { perc: 'not measured', mem: 'not measured' };
  return {
    perc: s.gpus.map((g) => `${g.index}: ${g.utilization === null ? 'not measured' : `${g.utilization.toFixed(0)}%`}`).join(', '),
    mem: s.gpus.map((g) => `${g.index}: ${bytesSize(g.memoryUsed)} / ${bytesSize(g.memoryTotal)}`).join(', '),
  };
}
export const STATS_TABLE = '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export function statsRows(samples: StatsSample[], noTrunc: boolean): Array<Record<string, string>> {
  return samples.map((s) => ({
    BlockIO: `${known(s.blockRead, humanSize)} / ${known(s.blockWrite, humanSize)}`,
    CPUPerc: known(s.cpuPercent, (v) => `${v.toFixed(2)}%`),
    Container: noTrunc ? s.id : s.id.slice(0, 12),
    ID: noTrunc ? s.id : s.id.slice(0, 12),
    MemPerc: known(s.memoryPercent, (v) => `${v.toFixed(2)}%`),
    MemUsage: `${known(s.memoryUsage, bytesSize)} / ${bytesSize(s.memoryLimit)}`,
    Name: s.name,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    PIDs: known(s.pids, String),
    GPUPerc: gpuCells(s).perc,
    GPUMemUsage: gpuCells(s).mem,
  }));
}

// GPU columns appear when a container shown has GPUs.
export function statsTable(samples: StatsSample[], noTrunc: boolean): Rendered {
  const gpus = samples.some((s) => s.gpus);
  return table(
    ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS', ...(gpus ? ['GPU %', 'GPU MEM USAGE / LIMIT'] : [])],
    samples.map((s) => [
      noTrunc ? s.id : s.id.slice(0, 12),
      s.name,
      known(s.cpuPercent, (v) => `${v.toFixed(2)}%`),
      `${known(s.memoryUsage, bytesSize)} / ${bytesSize(s.memoryLimit)}`,
      known(s.memoryPercent, (v) => `${v.toFixed(2)}%`),
      `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
      `${known(s.blockRead, humanSize)} / ${known(s.blockWrite, humanSize)}`,
      known(s.pids, String),
      ...(gpus ? [gpuCells(s).perc, gpuCells(s).mem] : []),
    ]),
  );
}

// A small CPU and memory history per container for the live stats view:
// plain divs with inline sizes, which notebook sanitizers keep.
export interface StatsHistory {
  name: string;
  cpu: number[];
  mem: number[];
  gpu: Map<number, { util: number[]; mem: number[] }>; // per GPU index: utilisation %, the container's share of its memory %
}

export function statsChart(history: Map<string, StatsHistory>): string {
  const H = 24;
  const row = (label: string, values: number[], color: string, max: number) => {
    const bars = values
      .map((v) => `<div style="display:inline-block;vertical-align:bottom;width:4px;margin-right:1px;height:${Math.max(1, Math.round((Math.min(v, max) / max) * H))}px;background-color:${color}"></div>`)
      .join('');
    return `<div style="height:${H + 4}px;line-height:0;white-space:nowrap">` +
      `<div style="display:inline-block;vertical-align:bottom;width:170px;line-height:normal;font-size:11px;color:#42526e">${escapeHtml(label)}</div>` +
      `<div style="display:inline-block;vertical-align:bottom;height:${H}px;min-width:200px;border-bottom:1px solid #c1c7d0">${bars}</div></div>`;
  };
  const rows = [...history.values()].map((h) => {
    const last = (a: number[]) => (a.length ? a[a.length - 1].toFixed(1) : '0.0');
    const gpus = [...h.gpu.entries()].map(([i, g]) => row(`${h.name} GPU${i} ${last(g.util)}%`, g.util, '#6554c0', 100) + row(`${h.name} GPU${i} MEM ${last(g.mem)}%`, g.mem, '#ff8b00', 100));
    return row(`${h.name} CPU ${last(h.cpu)}%`, h.cpu, '#2684ff', Math.max(100, ...h.cpu)) + row(`${h.name} MEM ${last(h.mem)}%`, h.mem, '#36b37e', 100) + gpus.join('');
  });
  return `<div class="berth-stats-chart" style="margin-top:6px">${rows.join('')}</div>`;
}

// Text renderings of container results, column for column as docker's.
import { Container } from '../engine/containers/types';
import { ProcessRow, StatsSample } from '../engine/containers/observe';
import { ago, bytesSize, ellipsis, humanDuration, humanSize } from './units';
import { Rendered, table } from './table';

export function statusText(c: Container, now = Date.now()): string {
  const s = c.state;
  if (s.Running) return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${s.Paused ? ' (Paused)' : ''}`;
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) ${ago(s.FinishedAt, now)}`;
  return 'Created';
}

export function commandText(c: Container, trunc: boolean): string {
  const full = [c.record.Path, ...c.record.Args].join(' ');
  return JSON.stringify(trunc ? ellipsis(full, 20) : full);
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
      '',
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

export function statsTable(samples: StatsSample[], noTrunc: boolean): Rendered {
  return table(
    ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
    samples.map((s) => [
      noTrunc ? s.id : s.id.slice(0, 12),
      s.name,
      `${s.cpuPercent.toFixed(2)}%`,
      `${bytesSize(s.memoryUsage)} / ${bytesSize(s.memoryLimit)}`,
      `${s.memoryPercent.toFixed(2)}%`,
      `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
      `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
      String(s.pids),
    ]),
  );
}

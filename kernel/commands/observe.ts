// top and stats: what a running container is doing.
import type { Container, StatsSample } from '../engine';
import { STATS_HEADERS, STATS_TABLE, statsChart, StatsHistory, statsRows, statsTable as defaultStatsTable, topTable } from '../render/containers';
import { formatList } from '../render/template';
import type { Rendered } from '../render/table';
import { Command, CommandContext } from './types';

export const topCommand: Command = {
  name: 'top',
  usage: 'top CONTAINER',
  summary: 'Display the running processes of a container',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    io.show(topTable(engine.containers.top(engine.containers.get(p.args[0]))));
    return 0;
  },
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function sampleAll(ctx: CommandContext, list: Container[], intervalMs: number): Promise<StatsSample[]> {
  const first = new Map(list.map((c) => [c.record.Id, ctx.engine.containers.stats(c)]));
  const at = Date.now();
  await sleep(intervalMs);
  const out: StatsSample[] = [];
  for (const c of list) {
    const prev = first.get(c.record.Id);
    const s = ctx.engine.containers.stats(c, prev ? { cpuNs: prev.raw.cpuUsageNs, at } : undefined);
    if (s) out.push(s);
  }
  return out;
}

export const statsCommand: Command = {
  name: 'stats',
  usage: 'stats [OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container resource usage statistics',
  flags: [
    { long: 'no-stream', kind: 'bool', help: 'Disable streaming stats and only pull the first result' },
    { long: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { long: 'all', short: 'a', kind: 'bool', help: 'Show all containers (default shows just running)' },
    { long: 'format', kind: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'" },
  ],
  async run(p, ctx) {
    const format = p.flags.format as string | undefined;
    const statsTable = (samples: StatsSample[], noTrunc: boolean): Rendered =>
      format && format !== 'table' ? { text: formatList(format, statsRows(samples, noTrunc), STATS_HEADERS, STATS_TABLE) } : defaultStatsTable(samples, noTrunc);
    const pick = () =>
      p.args.length ? p.args.map((r) => ctx.engine.containers.get(r)) : ctx.engine.containers.list(p.flags.all === true);
    const noTrunc = p.flags['no-trunc'] === true;
    if (p.flags['no-stream'] === true) {
      ctx.io.show(statsTable(await sampleAll(ctx, pick().filter((c) => c.state.Running), 500), noTrunc));
      return 0;
    }
    // Live: redraw in place until interrupted, as docker stats does.
    let stopped = false;
    const stop = ctx.io.onSignal?.(() => (stopped = true));
    const displayId = `berth-stats-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const history = new Map<string, StatsHistory>();
    try {
      while (!stopped) {
        const samples = await sampleAll(ctx, pick().filter((c) => c.state.Running), 1000);
        const r = statsTable(samples, noTrunc);
        if (ctx.io.isTerminal) {
          ctx.io.out(`\x1b[2J\x1b[H${r.text}`);
          continue;
        }
        for (const x of samples) {
          const h = history.get(x.id) ?? { name: x.name, cpu: [], mem: [], gpu: new Map() };
          h.cpu = [...h.cpu, x.cpuPercent ?? 0].slice(-40);
          h.mem = [...h.mem, x.memoryPercent ?? 0].slice(-40);
          for (const g of x.gpus ?? []) {
            const had = h.gpu.get(g.index) ?? { util: [], mem: [] };
            h.gpu.set(g.index, { util: [...had.util, g.utilization ?? 0].slice(-40), mem: [...had.mem, g.memoryTotal ? (g.memoryUsed / g.memoryTotal) * 100 : 0].slice(-40) });
          }
          history.set(x.id, h);
        }
        ctx.io.show(r.html === undefined ? r : { text: r.text, html: `${r.html}${statsChart(history)}` }, displayId);
      }
    } finally {
      stop?.();
    }
    return 0;
  },
};

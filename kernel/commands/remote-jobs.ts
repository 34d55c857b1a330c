// ps, logs, stop, kill, wait and rm on a cluster context: they act on the
// background jobs that run -d submitted there, with docker's flags, columns
// and exit codes, as the same commands act on containers here.
import * as fs from 'fs';
import { BerthError, ContextRecord, JobBackend, JobRecord, JobStatus } from '../engine';
import { table } from '../render/table';
import { ago, ellipsis, humanDuration } from '../render/units';
import { forEachArg } from './each';
import { Parsed } from './flags';
import { CommandContext } from './types';

type Remote = (p: Parsed, ctx: CommandContext, rec: ContextRecord) => Promise<number>;

const WHY_ENDED: Record<string, string> = {
  CANCELLED: 'cancelled',
  TIMEOUT: 'time limit',
  OUT_OF_MEMORY: 'out of memory',
  NODE_FAIL: 'node failed',
  PREEMPTED: 'preempted',
  BOOT_FAIL: 'node failed to boot',
  DEADLINE: 'deadline',
};

export function jobStatusText(s: JobStatus, now = Date.now()): string {
  if (s.state === 'PENDING') return `Queued on partition ${s.partition}${s.position ? `, position ${s.position}` : ''}${s.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}`;
  if (!s.ended) return s.startedAt ? `Up ${humanDuration(now - Date.parse(s.startedAt))} on ${s.node}` : `${s.state[0]}${s.state.slice(1).toLowerCase()} on ${s.node}`;
  if (s.state === 'UNKNOWN') return 'Ended (Slurm no longer knows the job)';
  const when = s.endedAt ? ` ${ago(s.endedAt, now)}` : '';
  const why = WHY_ENDED[s.state] ? ` (${WHY_ENDED[s.state]})` : '';
  return `Exited (${s.exitCode ?? '?'})${when}${why}`;
}

async function ps(p: Parsed, { engine, io }: CommandContext, rec: ContextRecord): Promise<number> {
  if (typeof p.flags.format === 'string') throw new BerthError(`ps --format is not available for the cluster context "${rec.Name}" yet: leave it out`);
  const backend = engine.contexts.backend(rec);
  let jobs = engine.contexts.jobs(rec.Name).list().map((j) => ({ j, s: backend.status(j) }));
  if (p.flags.latest === true) jobs = jobs.slice(0, 1);
  else if (p.flags.all !== true) jobs = jobs.filter(({ s }) => !s.ended);
  if (p.flags.quiet === true) {
    io.out(jobs.map(({ j }) => `${j.JobId}\n`).join(''));
    return 0;
  }
  const trunc = p.flags['no-trunc'] !== true;
  const now = Date.now();
  io.show(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], jobs.map(({ j, s }) => {
    const cmd = j.Command.join(' ');
    return [j.JobId, j.Image, JSON.stringify(trunc ? ellipsis(cmd, 20) : cmd), ago(j.Created, now), jobStatusText(s, now), '', j.Handle];
  })));
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Reads what a file gained since the last read (the job's output grows on
// the node's side of a shared filesystem).
class Tail {
  private at = 0;
  constructor(private readonly file: string) {}
  more(): string {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return ''; // the job has not started writing
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.at) return '';
      const buf = Buffer.alloc(size - this.at);
      const n = fs.readSync(fd, buf, 0, buf.length, this.at);
      this.at += n;
      return buf.subarray(0, n).toString();
    } finally {
      fs.closeSync(fd);
    }
  }
}

function lastLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  const lines = text.split(/(?<=\n)/);
  return n === 0 ? '' : lines.slice(-n).join('');
}

async function logs(p: Parsed, { engine, io }: CommandContext, rec: ContextRecord): Promise<number> {
  if (p.flags.timestamps === true) throw new BerthError(`logs --timestamps is not available on the cluster context "${rec.Name}": a job's output is kept without times`);
  const tailText = typeof p.flags.tail === 'string' ? p.flags.tail : 'all';
  if (tailText !== 'all' && !/^\d+$/.test(tailText)) throw new BerthError(`invalid argument "${tailText}" for "-n, --tail" flag: use a number of lines or "all"`);
  const n = tailText === 'all' ? undefined : Number(tailText);
  const job = engine.contexts.jobs(rec.Name).get(p.args[0]);
  const backend = engine.contexts.backend(rec);
  const out = new Tail(job.Out);
  const err = new Tail(job.Err);
  io.out(lastLines(out.more(), n));
  io.err(lastLines(err.more(), n));
  if (p.flags.follow !== true) return 0;
  let stopped = false;
  const stop = io.onSignal?.(() => (stopped = true));
  try {
    // Until the job ends, then once more for what its last moments wrote.
    for (let ended = false; !ended && !stopped; ) {
      ended = backend.status(job).ended;
      if (!ended) await sleep(250);
      io.out(out.more());
      io.err(err.more());
    }
  } finally {
    stop?.();
  }
  return 0;
}

async function until(backend: JobBackend, job: JobRecord, stopped: () => boolean): Promise<JobStatus> {
  for (;;) {
    const s = backend.status(job);
    if (s.ended || stopped()) return s;
    await sleep(250);
  }
}

async function wait(p: Parsed, ctx: CommandContext, rec: ContextRecord): Promise<number> {
  const { engine, io } = ctx;
  const backend = engine.contexts.backend(rec);
  let stopped = false;
  const stop = io.onSignal?.(() => (stopped = true));
  try {
    return await forEachArg(p, ctx, async (ref) => {
      const s = await until(backend, engine.contexts.jobs(rec.Name).get(ref), () => stopped);
      if (!s.ended) throw new BerthError('interrupted');
      return String(s.exitCode ?? 255);
    }, true);
  } finally {
    stop?.();
  }
}

// stop: Slurm ends the job and the node's Berth stops the container (TERM,
// then KILL). kill -s SIG: the signal goes through the job to the container;
// KILL, which the node's Berth cannot pass on, ends the job as stop does.
function stopOrKill(signalOf: (p: Parsed) => string | undefined, waits: boolean): Remote {
  return async (p, ctx, rec) => {
    const backend = ctx.engine.contexts.backend(rec);
    const jobs = ctx.engine.contexts.jobs(rec.Name);
    const sig = signalOf(p);
    if (p.flags.time !== undefined && p.flags.time !== '10') throw new BerthError(`stop -t on the cluster context "${rec.Name}": the node's Berth gives a cancelled job's container 10 seconds, inside Slurm's KillWait; leave out -t`);
    return forEachArg(p, ctx, async (ref) => {
      const job = jobs.get(ref);
      const s = backend.status(job);
      if (sig && s.ended) throw new BerthError(`cannot kill container: ${ref}: job ${job.JobId} is not running`, 'conflict');
      if (sig && s.state === 'PENDING') throw new BerthError(`cannot kill container: ${ref}: job ${job.JobId} is still queued; berth stop ${ref} cancels it`, 'conflict');
      if (!s.ended) backend.cancel(job.JobId, sig);
      if (waits) await until(backend, job, () => false);
    });
  };
}

async function rm(p: Parsed, ctx: CommandContext, rec: ContextRecord): Promise<number> {
  if (p.flags.volumes === true) throw new BerthError(`rm -v: a job on the cluster context "${rec.Name}" has no volumes here; leave out -v`);
  const backend = ctx.engine.contexts.backend(rec);
  const jobs = ctx.engine.contexts.jobs(rec.Name);
  return forEachArg(p, ctx, async (ref) => {
    const job = jobs.get(ref);
    const s = backend.status(job);
    if (!s.ended) {
      if (p.flags.force !== true) throw new BerthError(`cannot remove container "${ref}": job ${job.JobId} is ${s.state.toLowerCase()}: stop it before removing or force remove`, 'conflict');
      backend.cancel(job.JobId);
      await until(backend, job, () => false);
    }
    jobs.remove(job);
  });
}

const remoteCommands: Record<string, Remote> = {
  ps,
  logs,
  wait,
  rm,
  stop: stopOrKill(() => undefined, true),
  kill: stopOrKill((p) => {
    const sig = String(p.flags.signal ?? 'KILL').toUpperCase().replace(/^SIG/, '');
    return sig === 'KILL' || sig === '9' ? undefined : sig;
  }, false),
};

export function remoteCommand(name: string): Remote | undefined {
  return remoteCommands[name];
}

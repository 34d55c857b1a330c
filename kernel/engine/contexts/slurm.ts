// Runs on a Slurm cluster through its own commands: srun for a run in the
// foreground (its output streams back, and its exit code is the program's),
// sbatch for one in the background, squeue and scontrol to see a job wait,
// start and end, scancel to stop it. Berth on the
// node does the rest (pull by digest, the same limits inside the
// allocation), as pyxis or enroot would.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { PassThrough } from 'stream';
import { BerthError } from '../errors';
import { JobBackend, JobHandle, JobInfo, JobRecord, JobRequest, JobStatus, SlurmEndpoint } from './types';

function user(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

// Slurm prints times in local time without a zone: equal for both ends.
function seconds(from: string, to: string): number | null {
  const a = Date.parse(from), b = Date.parse(to);
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, (b - a) / 1000) : null;
}

function slurmCommand(name: string): string {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  if (r.error) throw new BerthError(`Slurm's ${name} is not installed here, so this context cannot reach its cluster: install Slurm's client commands (Debian: slurm-client) with the cluster's slurm.conf, or go back to this machine with berth context use default`, 'unavailable');
  return name;
}

// srun's words for a request the partition can never meet. "not available
// now" leaves the job pending for ever (EnforcePartLimits=NO, Slurm's
// default), so Berth cancels it and says so rather than hang the cell.
const NEVER_RUNS = /Requested node configuration is not available|Requested partition configuration not available now|More processors requested than permitted|Memory (required by task is not available|specification can not be satisfied)/i;
// srun's progress lines, which Berth says in its own words (queued, started).
const SRUN_CHATTER = /^srun: (error: )?(Force Terminated|Job step aborted|Job .* step creation|job \d+ queued and waiting for resources|job \d+ has been allocated resources|Job allocation \d+ has been revoked)|^srun: (launch|error): .*(Timed out|task 0: Exited with exit code)/;

// What srun's own errors mean, said so a notebook user can act on them.
export function explain(line: string, ep: SlurmEndpoint, req: JobRequest): string | undefined {
  if (/Invalid partition name/i.test(line)) return `Slurm has no partition "${ep.Partition ?? '(default)'}": sinfo lists them; recreate the context with --partition NAME`;
  if (NEVER_RUNS.test(line)) {
    return `the cluster cannot give this run ${req.cpus ? `${req.cpus} CPUs` : ''}${req.cpus && req.memory ? ' and ' : ''}${req.memory ? `${Math.ceil(req.memory / 1048576)} MiB` : ''}${req.gpus ? ` and ${req.gpus} GPUs` : ''} on partition ${ep.Partition ?? '(default)'}: ask for less (sinfo -o "%P %c %m %G" shows what its nodes have)`;
  }
  if (/Invalid account/i.test(line)) return `Slurm refused the account "${ep.Account}": check it with sacctmgr show assoc user=${user()}`;
  if (/Invalid generic resource|Invalid gres/i.test(line)) return 'the partition has no GPUs (no gres gpu): choose a partition with GPUs';
  if (/Requested time limit is invalid|time limit/i.test(line) && /invalid|exceed/i.test(line)) return `the time limit ${ep.Time} is over the partition's: sinfo -o "%P %l" shows it`;
  if (/execve\(\).*No such file or directory/.test(line)) return `Berth is not installed on the node (${ep.Berth ?? 'berth'} was not found there): install it on the nodes, or name it with berth context create --berth PATH`;
  if (/DUE TO TIME LIMIT/.test(line)) return `Slurm stopped the job at its time limit (${ep.Time ?? "the partition's"}): ask for more time in the context (--time)`;
  if (/oom[-_ ]kill|Exceeded job memory limit|Out Of Memory/i.test(line)) return 'Slurm killed the job for using more memory than it asked for: raise -m';
  return undefined;
}

export class SlurmBackend implements JobBackend {
  readonly kind = 'slurm';

  constructor(private readonly ep: SlurmEndpoint, private readonly env: NodeJS.ProcessEnv = process.env) {}

  ready(): void {
    for (const c of ['srun', 'sbatch', 'squeue', 'scancel']) slurmCommand(c);
  }

  // What the scheduler allocates: -m as --mem, --cpus rounded up, GPUs as gres.
  allocation(req: JobRequest): string[] {
    const a = ['--job-name', req.name];
    if (this.ep.Partition) a.push(`--partition=${this.ep.Partition}`);
    if (this.ep.Account) a.push(`--account=${this.ep.Account}`);
    if (this.ep.Time) a.push(`--time=${this.ep.Time}`);
    if (req.memory) a.push(`--mem=${Math.ceil(req.memory / 1048576)}M`);
    if (req.cpus) a.push(`--cpus-per-task=${req.cpus}`);
    if (req.gpus) a.push(`--gres=gpu:${req.gpus}`);
    return a;
  }

  // The node's command. With GPUs, the node's Berth is handed the ones
  // Slurm allocated to this job (its GPU indices, as gres.conf numbers
  // them), never simply the first ones on the node.
  nodeCommand(req: JobRequest): string[] {
    const berth = this.ep.Berth ?? 'berth';
    if (!req.gpus) return [berth, ...req.nodeArgv];
    // docker's CSV: a field with commas is quoted. The capabilities come in
    // as an argument, never as script text, so nothing in them is run.
    const caps = req.gpuCapabilities?.length ? `,"capabilities=${req.gpuCapabilities.join(',')}"` : '';
    const script = [
      'g=${SLURM_STEP_GPUS:-${SLURM_JOB_GPUS:-}}',
      '[ -n "$g" ] || { echo "berth: Slurm allocated GPUs but named none to this job (its gres.conf needs File= lines for them): ask the cluster\'s administrators" >&2; exit 125; }',
      'b=$1; c=$2; shift 3',
      String.raw`exec "$b" run --gpus "\"device=$g\"$c" "$@"`,
    ].join('; ');
    return ['sh', '-c', script, 'sh', berth, caps, ...req.nodeArgv];
  }

  // srun's flags for a run in the foreground.
  srunArgs(req: JobRequest): string[] {
    return [...this.allocation(req), '--ntasks=1', '--', ...this.nodeCommand(req)];
  }

  // A job the scheduler still queues or runs, by name (a run in the
  // foreground) or by ID (one in the background).
  private query(name: string, jobId?: string): (JobInfo & { startedAt: string | null }) | undefined {
    const which = jobId ? ['-j', jobId] : ['-n', name, '-u', user()];
    const r = spawnSync('squeue', ['-h', ...which, '-o', '%i|%T|%N|%P|%V|%S|%r'], { encoding: 'utf8', env: this.env });
    const line = (r.stdout ?? '').trim().split('\n').filter(Boolean).pop();
    if (!line) return undefined;
    const [id, state, node, partition, submit, start, reason] = line.split('|');
    let position = 0;
    if (state === 'PENDING') {
      const q = spawnSync('squeue', ['-h', '-t', 'PENDING', '-p', partition, '-o', '%i', '--sort=-p,V'], { encoding: 'utf8', env: this.env });
      position = (q.stdout ?? '').split('\n').map((l) => l.trim()).indexOf(id) + 1;
    }
    const running = state !== 'PENDING';
    return { jobId: id, state, node, partition, reason, position, queuedSeconds: running ? seconds(submit, start) : null, startedAt: running ? iso(start) : null };
  }

  // A job that ended: scontrol still knows it for a while (MinJobAge).
  private ended(name: string, jobId?: string): EndedJob | undefined {
    const r = spawnSync('scontrol', ['-o', 'show', 'job', ...(jobId ? [jobId] : [])], { encoding: 'utf8', env: this.env });
    const jobs = (r.stdout ?? '').split('\n').filter((l) => l.includes(` JobName=${name} `)).map((l) => {
      const f = (k: string) => new RegExp(`(?:^| )${k}=(\\S*)`).exec(l)?.[1] ?? '';
      return { jobId: f('JobId'), state: f('JobState'), node: f('NodeList'), partition: f('Partition'), reason: f('Reason'), position: 0, queuedSeconds: seconds(f('SubmitTime'), f('StartTime')), exit: f('ExitCode'), start: f('StartTime'), end: f('EndTime') };
    });
    return jobs.sort((a, b) => Number(b.jobId) - Number(a.jobId))[0];
  }

  run(req: JobRequest): JobHandle {
    slurmCommand('srun');
    const child: ChildProcess = spawn('srun', this.srunArgs(req), { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    child.stdout!.pipe(stdout);
    let info: JobInfo | undefined;
    const listeners: Array<(j: JobInfo) => void> = [];
    const cancel = () => void spawnSync('scancel', ['--name', req.name, '--user', user()], { stdio: 'ignore', env: this.env });
    let problem: string | undefined;
    // srun's own "srun: error:" lines become one message that says what to
    // do; the program's stderr passes through as it comes.
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const why = /^(srun|slurmstepd): (error|\*\*\*)|^slurmstepd/.test(l) || (/^srun: /.test(l) && NEVER_RUNS.test(l)) ? explain(l, this.ep, req) : undefined;
        if (why) {
          problem ??= why;
          if (NEVER_RUNS.test(l)) cancel();
        } else if (!SRUN_CHATTER.test(l)) stderr.write(`${l}\n`);
      }
    });
    child.stderr!.on('end', () => {
      if (partial) stderr.write(partial);
      stderr.end();
    });
    const poll = setInterval(() => {
      const j = this.query(req.name);
      if (!j) return;
      const changed = !info || info.state !== j.state || info.position !== j.position;
      info = { ...j, queuedSeconds: j.queuedSeconds ?? info?.queuedSeconds ?? null };
      if (changed) for (const cb of listeners) cb(info);
    }, 500);
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', (e) => reject(new BerthError(`cannot start srun: ${e.message}`, 'unavailable')));
      child.on('close', (code, signal) => {
        clearInterval(poll);
        const last = this.ended(req.name);
        if (last && (!info || info.jobId === last.jobId)) info = { ...last, queuedSeconds: info?.queuedSeconds ?? last.queuedSeconds };
        if (problem) reject(new BerthError(problem, 'unavailable'));
        else resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
      });
    });
    return {
      stdout,
      stderr,
      exited,
      info: () => info,
      onInfo: (cb) => listeners.push(cb),
      cancel,
    };
  }

  // A run in the background: a batch script that runs the node's Berth and
  // writes its exit code where this machine reads it. Its no-op traps keep
  // the script alive through a signal passed to the job (kill -s), so the
  // exit code is still written; handlers, unlike ignored signals, are not
  // inherited by Berth or the container.
  submit(req: JobRequest, files: { out: string; err: string; exit: string }): string {
    slurmCommand('sbatch');
    const script = [
      '#!/bin/sh',
      'umask 077', // what the job writes beside it (its exit code) is the user's alone
      'trap : HUP INT QUIT TERM USR1 USR2',
      this.nodeCommand(req).map(shellQuote).join(' '),
      'code=$?',
      ...(req.cleanup?.length ? [`rm -f ${req.cleanup.map(shellQuote).join(' ')}`] : []),
      `echo "$code" > ${shellQuote(files.exit)}`,
      'exit "$code"',
    ].join('\n') + '\n';
    const r = spawnSync('sbatch', ['--parsable', ...this.allocation(req), '--ntasks=1', `--output=${files.out}`, `--error=${files.err}`], { input: script, encoding: 'utf8', env: this.env });
    if (r.error) throw new BerthError(`cannot start sbatch: ${r.error.message}`, 'unavailable');
    const jobId = (r.stdout ?? '').trim().split(';')[0];
    if (r.status !== 0 || !/^\d+$/.test(jobId)) {
      const said = (r.stderr ?? '').trim();
      throw new BerthError(explain(said, this.ep, req) ?? `Slurm refused the job: ${said.replace(/^sbatch: error: /gm, '') || `sbatch exited ${r.status}`}`, 'unavailable');
    }
    return jobId;
  }

  status(rec: JobRecord): JobStatus {
    let code: number | null = null;
    try {
      const t = fs.readFileSync(rec.ExitFile, 'utf8').trim();
      if (/^\d+$/.test(t)) code = Number(t);
    } catch {
      /* not ended, or ended before its script could write it */
    }
    const base = { node: '', partition: '', reason: '', position: 0, startedAt: null, endedAt: null };
    const live = this.query(rec.Handle, rec.JobId);
    if (live && !ENDED.has(live.state)) {
      return { ...base, state: live.state, ended: false, exitCode: null, node: live.node, partition: live.partition, reason: live.reason, position: live.position, startedAt: live.startedAt };
    }
    // Ended: scontrol knows it for MinJobAge; sacct, where the cluster keeps
    // accounting, for longer; the exit file for as long as it is kept.
    const gone = this.ended(rec.Handle, rec.JobId) ?? this.accounted(rec.JobId);
    if (gone) {
      const [exit, sig] = gone.exit.split(':').map(Number);
      const fromSlurm = sig ? 128 + sig : Number.isFinite(exit) ? exit : null;
      return { ...base, state: gone.state, ended: true, exitCode: code ?? (gone.state === 'CANCELLED' && !sig && !exit ? 143 : fromSlurm), node: gone.node, partition: gone.partition, startedAt: iso(gone.start), endedAt: iso(gone.end) };
    }
    if (code !== null) return { ...base, state: code === 0 ? 'COMPLETED' : 'FAILED', ended: true, exitCode: code, endedAt: mtime(rec.ExitFile) };
    return { ...base, state: 'UNKNOWN', ended: true, exitCode: null };
  }

  cancel(jobId: string, signal?: string): void {
    slurmCommand('scancel');
    const args = signal ? ['--full', `--signal=${signal.replace(/^SIG/, '')}`, jobId] : [jobId];
    const r = spawnSync('scancel', args, { encoding: 'utf8', env: this.env });
    const said = (r.stderr ?? '').trim();
    if (r.status !== 0 || said) {
      if (/already completing or completed|Invalid job id/i.test(said)) return;
      throw new BerthError(`Slurm did not ${signal ? `signal` : 'cancel'} job ${jobId}: ${said.replace(/^scancel: error: /, '') || `scancel exited ${r.status}`}`, 'unavailable');
    }
  }

  private accounted(jobId: string): Pick<EndedJob, 'state' | 'exit' | 'node' | 'partition' | 'start' | 'end'> | undefined {
    const r = spawnSync('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'State,ExitCode,NodeList,Partition,Start,End'], { encoding: 'utf8', env: this.env });
    const line = r.status === 0 ? (r.stdout ?? '').trim().split('\n')[0] : '';
    if (!line) return undefined;
    const [state, exit, node, partition, start, end] = line.split('|');
    return { state: state.split(' ')[0], exit, node, partition, start, end };
  }
}

interface EndedJob extends JobInfo {
  exit: string; // Slurm's EXIT:SIGNAL
  start: string;
  end: string;
}

// States in which a job no longer runs (squeue may still show some briefly).
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function iso(slurmTime: string): string | null {
  const t = Date.parse(slurmTime);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

function mtime(file: string): string | null {
  try {
    return fs.statSync(file).mtime.toISOString();
  } catch {
    return null;
  }
}

// `run` on a cluster context: the image goes to the context's registry
// (only what it lacks), the job runs `berth run --rm ... IMAGE@DIGEST` on
// a node with the same limits, and its output streams back as a local
// run's does, with the exit code. A job that waits says so.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { BerthError, ContextRecord } from '../engine';
import { FlagValues, Parsed } from './flags';
import { ensureImage, stdoutTap, toCreateRequest } from './run';
import type { CreateRequest, JobRecord } from '../engine';
import { CommandContext } from './types';

// Flags the node's berth gets as they were given; the rest are handled
// here (name, env, rm, record) or cannot reach a node.
const NOT_ON_A_NODE: Record<string, string> = {
  volume: "-v names this machine's files and volumes, which the nodes do not have",
  mount: "--mount names this machine's files and volumes, which the nodes do not have",
  publish: "-p publishes a port on the node, which this machine cannot reach",
  'publish-all': "-P publishes ports on the node, which this machine cannot reach",
  tty: '-t needs a terminal, which a batch job does not have',
  interactive: '-i would need this cell\'s input on the node',
  'network-alias': '--network-alias names a network of this machine',
  ip: '--ip names a network of this machine',
};
const HANDLED_HERE = new Set(['name', 'env', 'env-file', 'rm', 'record', 'gpus', 'detach']);

function nodeFlags(f: FlagValues): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (HANDLED_HERE.has(k) || v === undefined || v === false || (Array.isArray(v) && !v.length)) continue;
    if (NOT_ON_A_NODE[k]) throw new BerthError(`cannot run on a cluster context with this flag: ${NOT_ON_A_NODE[k]}`);
    if (v === true) out.push(`--${k}`);
    else for (const x of Array.isArray(v) ? v : [v]) out.push(`--${k}=${x}`);
  }
  return out;
}

// --gpus on a cluster is a count: Slurm chooses which of a node's GPUs.
function gpusOf(req: CreateRequest, rec: ContextRecord): { gpus: number; gpuCapabilities?: string[] } {
  const g = (req.host.DeviceRequests ?? []).find((d) => d.Driver !== 'cdi');
  if (!g) return { gpus: 0 };
  if (g.DeviceIDs || g.Count < 1) {
    throw new BerthError(`--gpus on the cluster context "${rec.Name}" takes a number of GPUs (--gpus 2): Slurm chooses which of a node's GPUs the job gets, so "all" and device= name nothing there`);
  }
  const caps = (g.Capabilities?.[0] ?? []).filter((c) => c !== 'gpu');
  return { gpus: g.Count, ...(caps.length ? { gpuCapabilities: caps } : {}) };
}

// The exact image the notebook has, by digest, in the registry the nodes
// pull from; only the layers it lacks are pushed.
async function imageForNodes(ctx: CommandContext, image: string, registry: string): Promise<string> {
  const { engine, io } = ctx;
  await ensureImage(ctx, image);
  const ref = engine.registry.parse(image);
  const target = `${registry}/${ref.path}:${ref.tag || 'latest'}`;
  engine.images.tag(image, target);
  let pushed = 0;
  let digest: string;
  try {
    digest = (await engine.registry.push(target, {}, (e) => { if (e.type === 'layer' && e.status !== 'exists') pushed++; })).digest;
  } catch (e) {
    throw new BerthError(`cannot put ${image} into ${registry}, from where the nodes pull: ${(e as Error).message}; check that the registry runs and that this machine and the nodes reach it`, 'unavailable');
  }
  io.err(pushed ? `pushed ${pushed} layer${pushed > 1 ? 's' : ''} of ${image} to ${registry}\n` : `${image} is in ${registry} already\n`);
  return `${registry}/${ref.path}@${digest}`;
}

export async function runRemote(p: Parsed, ctx: CommandContext, rec: ContextRecord): Promise<number> {
  const { engine, io } = ctx;
  const ep = rec.Endpoints.slurm!;
  const req = toCreateRequest('run', p, io.env, true);
  const gpus = gpusOf(req, rec);
  if (!ep.Registry) throw new BerthError(`the context "${rec.Name}" has no registry through which images reach its nodes: recreate it with --registry HOST:PORT`);
  if (typeof p.flags.record === 'string' && p.flags.detach === true) throw new BerthError('--record keeps the record of a foreground run: leave out -d');
  const argv = nodeFlags(p.flags);
  const backend = engine.contexts.backend(rec);
  backend.ready();
  const pinned = await imageForNodes(ctx, req.image, ep.Registry);
  const name = req.name ?? `berth-${randomBytes(6).toString('hex')}`;
  const jobs = engine.contexts.jobs(rec.Name);
  if (p.flags.detach === true && req.name !== undefined && jobs.list().some((j) => j.Handle === name)) {
    throw new BerthError(`Conflict. The container name "/${name}" is already in use by a job on context ${rec.Name}. You have to remove (berth rm ${name}) that job to be able to reuse that name.`, 'conflict');
  }
  // -e and --env-file were read here (the file is this machine's); their
  // values reach the node in a 0600 file, never on srun's command line.
  const envFile = jobs.envFile(name, req.env);
  const job = {
    name,
    nodeArgv: ['run', '--rm', ...(envFile ? ['--env-file', envFile] : []), ...argv, pinned, ...req.command],
    cleanup: envFile ? [envFile] : [],
    memory: req.host.Memory ?? 0,
    cpus: req.host.NanoCpus ? Math.ceil(req.host.NanoCpus / 1e9) : 0,
    ...gpus,
  };
  if (p.flags.detach === true) {
    const files = jobs.files(name);
    let jobId: string;
    try {
      jobId = backend.submit(job, files);
    } catch (e) {
      jobs.remove({ Handle: name, Out: files.out, Err: files.err, ExitFile: files.exit } as JobRecord);
      throw e;
    }
    jobs.save({ Handle: name, JobId: jobId, Context: rec.Name, Image: req.image, Command: req.command, Created: new Date().toISOString(), Out: files.out, Err: files.err, ExitFile: files.exit });
    (io.value ?? io.out)(`${name}\n`);
    return 0;
  }
  const record = engine.containers.preview(req);
  const recordFile = (p.flags.record as string | undefined) ?? io.recordTo;
  const startedAt = new Date();
  const t0 = Date.now();
  const handle = backend.run(job);
  let waited = false;
  handle.onInfo((j) => {
    if (j.state === 'PENDING') {
      waited = true;
      io.err(`queued on partition ${j.partition}, position ${j.position || '?'}${j.reason && j.reason !== 'None' ? ` (${j.reason})` : ''}\n`);
    } else if (j.state === 'RUNNING' && waited) {
      io.err(`started as job ${j.jobId} on ${j.node}\n`);
    }
  });
  const stop = io.onSignal?.(() => handle.cancel());
  try {
    const tap = recordFile !== undefined ? stdoutTap(handle.stdout) : undefined;
    const streamed = Promise.all([
      new Promise<void>((r) => handle.stdout.on('data', (d: Buffer) => io.out(d.toString())).on('end', r)),
      new Promise<void>((r) => handle.stderr.on('data', (d: Buffer) => io.err(d.toString())).on('end', r)),
    ]);
    const exitCode = await handle.exited;
    await streamed;
    const j = handle.info();
    const context = { name: rec.Name, kind: 'slurm', jobId: j?.jobId ?? '', node: j?.node ?? '', partition: j?.partition ?? '', queuedSeconds: j?.queuedSeconds ?? null };
    const exp = engine.records.of(record, { exitCode, oomKilled: false, peakMemory: null, cpuNs: null }, startedAt, Date.now() - t0, tap?.digest ? tap : undefined, undefined, context);
    if (recordFile !== undefined) engine.records.append(recordFile, exp);
    io.experiment?.(exp);
    return exitCode;
  } finally {
    stop?.();
    if (envFile) fs.rmSync(envFile, { force: true });
  }
}

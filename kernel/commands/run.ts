// `run` and `create`: docker's flags turned into a typed CreateRequest.
import { createHash } from 'crypto';
import * as fs from 'fs';
import { Readable } from 'stream';
import { BerthError, CreateRequest, DETACHED, HostConfig, NotFoundError, Ulimit } from '../engine';
import { FlagSpec, invalidFlag, labelMap, Parsed, UsageError } from './flags';
import { deviceFlags, devicesFromFlags } from './device-flags';
import { deviceLimitFlags, limitFlags, limitsFromFlags } from './limit-flags';
import { mountsFromFlags } from './mount-flags';
import { drainAfterExit } from './streams';
import { Command, CommandContext } from './types';

export const createFlags: FlagSpec[] = [
  ...limitFlags,
  ...deviceLimitFlags,
  ...deviceFlags,
  { long: 'name', kind: 'string', help: 'Assign a name to the container' },
  { long: 'env', short: 'e', kind: 'list', help: 'Set environment variables' },
  { long: 'env-file', kind: 'list', help: 'Read in a file of environment variables' },
  { long: 'workdir', short: 'w', kind: 'string', help: 'Working directory inside the container' },
  { long: 'user', short: 'u', kind: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { long: 'entrypoint', kind: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { long: 'hostname', short: 'h', kind: 'string', help: 'Container host name' },
  { long: 'interactive', short: 'i', kind: 'bool', help: 'Keep STDIN open even if not attached' },
  { long: 'tty', short: 't', kind: 'bool', help: 'Allocate a pseudo-TTY' },
  { long: 'read-only', kind: 'bool', help: "Mount the container's root filesystem as read only" },
  { long: 'network', kind: 'string', aliases: ['net'], help: 'Connect a container to a network (bridge, none, host, or a network you created)', default: 'bridge' },
  { long: 'network-alias', kind: 'list', help: 'Add network-scoped alias for the container' },
  { long: 'ip', kind: 'string', help: 'IPv4 address (e.g., 172.30.32.5) on a user-defined network' },
  { long: 'publish', short: 'p', kind: 'list', help: "Publish a container's port to the host ([IP:][HOSTPORT:]PORT[/tcp|/udp]; IP defaults to 127.0.0.1)" },
  { long: 'publish-all', short: 'P', kind: 'bool', help: 'Publish all exposed ports to random ports on 127.0.0.1' },
  { long: 'init', kind: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { long: 'ulimit', kind: 'list', value: 'ulimit', help: 'Ulimit options (e.g. nofile=1024:2048)' },
  { long: 'label', short: 'l', kind: 'list', help: 'Set meta data on a container' },
  { long: 'volume', short: 'v', kind: 'list', help: 'Bind mount a volume ([NAME|HOST-PATH:]CONTAINER-PATH[:ro])' },
  { long: 'mount', kind: 'list', help: 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=...,target=...[,readonly])' },
  { long: 'tmpfs', kind: 'list', help: 'Mount a tmpfs directory (PATH[:OPTIONS], e.g. /run:size=64m)' },
  { long: 'rm', kind: 'bool', help: 'Automatically remove the container and its anonymous volumes when it exits' },
];

const runFlags: FlagSpec[] = [
  { long: 'detach', short: 'd', kind: 'bool', help: 'Run container in background and print container ID' },
  { long: 'record', kind: 'string', help: 'Append an experiment record of this run to FILE (JSON lines; see berth records)' },
  ...createFlags,
];

function readEnvFile(file: string, userEnv: NodeJS.ProcessEnv): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new BerthError(`open ${file}: no such file or directory; --env-file takes a file of KEY=VALUE lines`, 'not-found');
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .flatMap((l) => (l.includes('=') ? [l] : userEnv[l] !== undefined ? [`${l}=${userEnv[l]}`] : []));
}

// onCluster: the run goes to a cluster's node, so this machine's CPU count bounds nothing.
export function toCreateRequest(cmd: string, p: Parsed, userEnv: NodeJS.ProcessEnv, onCluster = false): CreateRequest {
  const f = p.flags;
  const [image, ...command] = p.args;
  if (!image) throw new UsageError(`"berth ${cmd}" requires at least 1 argument.\nUsage:  berth ${cmd} [OPTIONS] IMAGE [COMMAND] [ARG...]`, cmd);
  const host: Partial<HostConfig> = { ...limitsFromFlags(cmd, f, {}, onCluster ? Infinity : undefined), ...devicesFromFlags(cmd, f) };
  const network = typeof f.network === 'string' ? f.network : 'none';
  host.NetworkMode = network === 'default' ? 'bridge' : network;
  host.PortBindings = {};
  for (const spec of f.publish as string[]) {
    const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(?:(\d*):)?(\d+)(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) invalidFlag(cmd, spec, '-p, --publish', 'expected [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], e.g. 8080:80');
    const key = `${m[3]}/${m[4] ?? 'tcp'}`;
    host.PortBindings[key] = [...(host.PortBindings[key] ?? []), { HostIp: m[1] ?? '127.0.0.1', HostPort: m[2] ?? '' }];
  }
  host.PublishAllPorts = f['publish-all'] === true;
  if (typeof f.network !== 'string') delete host.NetworkMode; // the engine's default: bridge
  host.ReadonlyRootfs = f['read-only'] === true;
  host.AutoRemove = f.rm === true;
  host.Init = f.init === true;
  host.Ulimits = (f.ulimit as string[]).map((u): Ulimit => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
    if (!m) invalidFlag(cmd, u, '--ulimit', 'expected name=soft[:hard], e.g. nofile=1024:2048');
    const soft = Number(m[2]);
    return { Name: m[1], Soft: soft, Hard: m[3] !== undefined ? Number(m[3]) : soft };
  });
  const env: string[] = [];
  for (const file of f['env-file'] as string[]) env.push(...readEnvFile(file, userEnv));
  const secretEnv = env.map((e) => e.slice(0, e.indexOf('=')));
  for (const e of f.env as string[]) {
    if (e.includes('=')) env.push(e);
    else if (userEnv[e] !== undefined) env.push(`${e}=${userEnv[e]}`);
  }
  const labels = labelMap(f.label as string[]);
  const mounts = mountsFromFlags(cmd, f.volume as string[], f.mount as string[], f.tmpfs as string[], host, userEnv);
  return {
    image,
    command,
    mounts,
    name: f.name as string | undefined,
    entrypoint: f.entrypoint as string | undefined,
    env,
    ...(secretEnv.length ? { secretEnv } : {}),
    workdir: f.workdir as string | undefined,
    user: f.user as string | undefined,
    hostname: f.hostname as string | undefined,
    tty: f.tty === true,
    openStdin: f.interactive === true,
    host,
    labels,
    networkAliases: f['network-alias'] as string[],
    ip: f.ip as string | undefined,
  };
}

// As the docker CLI: an image missing here is pulled first.
export async function ensureImage(ctx: CommandContext, image: string): Promise<void> {
  try {
    ctx.engine.images.resolve(image);
    return;
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  const ref = ctx.engine.registry.parse(image);
  ctx.io.err(`Unable to find image '${ref.familiar}' locally\n`);
  const { loadCommand } = await import('./registry');
  try {
    await loadCommand('pull')!.run({ flags: { quiet: false }, args: [image] }, { ...ctx, io: { ...ctx.io, out: ctx.io.err } });
  } catch (e) {
    if (e instanceof BerthError) {
      throw new BerthError(`Unable to find image '${ref.familiar}' locally, and pulling it failed: ${e.message}. Import or build it (berth import, berth build), or check the name.`);
    }
    throw e;
  }
}

// Hashes what the container prints on stdout, for the experiment record.
export function stdoutTap(stream: Readable | null): { digest: string; bytes: number } | undefined {
  if (!stream) return undefined;
  const hash = createHash('sha256');
  const result = { digest: '', bytes: 0 };
  stream.on('data', (d: Buffer | string) => {
    const b = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
    hash.update(b);
    result.bytes += b.length;
  });
  stream.on('end', () => (result.digest = `sha256:${hash.digest('hex')}`));
  return result;
}

async function runForeground(p: Parsed, ctx: CommandContext): Promise<number> {
  // A cluster context runs it there (and loads that code only then).
  const remote = ctx.engine.contexts.remote(ctx.contextName);
  if (remote) return (await import('./remote-run')).runRemote(p, ctx, remote);
  const req = toCreateRequest('run', p, ctx.io.env);
  const { io, engine } = ctx;
  const recordFile = (p.flags.record as string | undefined) ?? io.recordTo;
  if (typeof p.flags.record === 'string' && p.flags.detach === true) throw new BerthError('--record keeps the record of a foreground run: leave out -d');
  await ensureImage(ctx, req.image);
  if (p.flags.detach === true) {
    const h = await engine.containers.run(req, DETACHED);
    (io.value ?? io.out)(`${h.container.record.Id}\n`);
    return 0;
  }
  const startedAt = new Date();
  const t0 = Date.now();
  let attach = io.attach(req.openStdin);
  // A recorded run's stdout passes through here to be hashed on its way out.
  const relay = recordFile !== undefined && attach.stdout === 'inherit' && !req.tty;
  if (relay) attach = { ...attach, stdout: 'pipe' };
  const h = await engine.containers.run(req, attach);
  const cdi = engine.containers.cdiDevices(h.container); // before a --rm container's bundle goes
  const gpus = engine.containers.watchGpus(h.container);
  // As docker's sig-proxy: signals the front end receives go to the container.
  // Inside a Slurm job (a cluster context's run on its node), SIGTERM is the
  // scheduler ending the job (scancel, time limit): the container is stopped
  // as docker stop does it, TERM then KILL, well inside Slurm's KillWait
  // (30 s by default), since Slurm kills this process and not the shim.
  const inSlurmJob = io.env.SLURM_JOB_ID !== undefined;
  const stopForwarding = io.onSignal?.((sig) => {
    if (inSlurmJob && sig === 'SIGTERM') {
      engine.containers.stop(h.container.record.Id, 10).catch(() => undefined);
      return;
    }
    try {
      engine.containers.signal(h.container.record.Id, sig);
    } catch {
      /* already exited */
    }
  });
  try {
    const tap = recordFile !== undefined ? stdoutTap(h.stdout) : undefined;
    const bytes = relay ? io.bytesOut?.() : undefined;
    if (bytes && h.stdout) h.stdout.pipe(bytes as NodeJS.WritableStream, { end: false });
    const pumping = io.pump?.(h, req.openStdin);
    const exit = await h.exited;
    await drainAfterExit(h, pumping);
    const out = h.stdout;
    if (tap && out && !out.readableEnded) await new Promise((r) => out.once('end', r).once('close', r).once('error', r));
    const devices = { cdi, gpus: gpus?.stop() ?? [] };
    const rec = engine.records.of(h.container.record, exit, startedAt, Date.now() - t0, tap?.digest ? tap : undefined, devices);
    if (recordFile !== undefined) engine.records.append(recordFile, rec);
    io.experiment?.(rec);
    return exit.exitCode;
  } finally {
    gpus?.stop();
    stopForwarding?.();
  }
}

export const runCommand: Command = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  flags: runFlags,
  interspersed: false,
  run: runForeground,
};

export const createCommand: Command = {
  name: 'create',
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  flags: createFlags,
  interspersed: false,
  async run(p, ctx) {
    const req = toCreateRequest('create', p, ctx.io.env);
    await ensureImage(ctx, req.image);
    const c = await ctx.engine.containers.create(req);
    (ctx.io.value ?? ctx.io.out)(`${c.record.Id}\n`);
    return 0;
  },
};

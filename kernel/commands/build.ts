// `build`: a Dockerfile and its context into an image, printed step by step
// as docker's classic builder prints it.
import * as path from 'path';
import { BerthError, BuildEvent, BuildRequest, hexOf, Image, parseReference, SecretSource } from '../engine';
import { invalidFlag } from './flags';
import { bytesFrom, textFrom } from './bytes';
import { Command, CommandContext } from './types';

export const buildFlags = [
  { long: 'tag', short: 't', kind: 'list' as const, help: 'Name and optionally a tag in the "name:tag" format' },
  { long: 'file', short: 'f', kind: 'string' as const, help: "Name of the Dockerfile (default: 'PATH/Dockerfile')" },
  { long: 'target', kind: 'string' as const, help: 'Set the target build stage to build' },
  { long: 'no-cache', kind: 'bool' as const, help: 'Do not use cache when building the image' },
  { long: 'build-arg', kind: 'list' as const, help: 'Set build-time variables' },
  { long: 'quiet', short: 'q', kind: 'bool' as const, help: 'Suppress the build output and print image ID on success' },
  { long: 'network', kind: 'string' as const, help: 'Set the networking mode for the RUN instructions during build: default, none or host' },
  { long: 'secret', kind: 'list' as const, help: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]" or "id=x,env=VAR")' },
  { long: 'allow', kind: 'list' as const, help: 'Allow extra privileged entitlement (network.host)' },
  { long: 'label', kind: 'list' as const, help: 'Set metadata for an image' },
  { long: 'iidfile', kind: 'string' as const, help: 'Write the image ID to the file' },
  { long: 'platform', kind: 'string' as const, help: "Set the target platform for the build (only this machine's)" },
  { long: 'pull', kind: 'bool' as const, help: 'Always attempt to pull a newer version of the base images' },
  { long: 'progress', kind: 'string' as const, help: 'Set type of progress output (auto, plain, tty, quiet)' },
];

// --secret id=NAME[,src=FILE|,env=VAR] (type=file|env too), as buildx
// takes it. With neither src nor env, the file or variable is named by id.
export function secrets(list: string[], env: NodeJS.ProcessEnv): SecretSource[] {
  return list.map((spec) => {
    const f = new Map<string, string>();
    for (const part of spec.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) invalidFlag('build', spec, '--secret', `expected KEY=VALUE in "${part}": use --secret id=NAME,src=FILE`);
      f.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
    }
    for (const k of f.keys()) if (!['id', 'src', 'source', 'env', 'type'].includes(k)) invalidFlag('build', spec, '--secret', `unexpected key "${k}": use id, src, env or type`);
    const id = f.get('id') ?? path.basename(f.get('src') ?? f.get('source') ?? f.get('env') ?? '');
    if (!id) invalidFlag('build', spec, '--secret', 'a secret needs id=NAME');
    const src = f.get('src') ?? f.get('source');
    const envName = f.get('env') ?? (f.get('type') === 'env' || (!src && env[id] !== undefined && f.get('type') !== 'file') ? id : undefined);
    if (envName !== undefined && src === undefined) {
      if (env[envName] === undefined) invalidFlag('build', spec, '--secret', `the environment variable ${envName} is not set`);
      return { id, value: env[envName] };
    }
    return { id, src: path.resolve(src ?? id) };
  });
}

export function buildArgs(list: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const i = a.indexOf('=');
    if (i < 0) {
      if (env[a] !== undefined) out[a] = env[a]!;
    } else out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

// docker's classic builder lines for one event
export function buildLine(e: BuildEvent): string {
  switch (e.type) {
    case 'step': return `Step ${e.index}/${e.total} : ${e.text}\n`;
    case 'cached': return ' ---> Using cache\n';
    case 'running': return ` ---> Running in ${e.containerId.slice(0, 12)}\n`;
    case 'output': return e.text;
    case 'removed': return `Removing intermediate container ${e.containerId.slice(0, 12)}\n`;
    case 'unpack': return '';
    case 'result': return ` ---> ${e.imageId === 'scratch' ? 'scratch' : hexOf(e.imageId).slice(0, 12)}\n`;
    case 'done': return `Successfully built ${hexOf(e.image.id).slice(0, 12)}\n${e.tags.map((t) => `Successfully tagged ${t.includes(':') ? t : `${t}:latest`}\n`).join('')}`;
  }
}

// Runs a build for a front end: step lines as docker prints them, plus progress.
async function runBuild(ctx: CommandContext, req: BuildRequest, quiet: boolean): Promise<Image> {
  const { engine, io } = ctx;
  const progressId = `berth-build-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const image = await engine.builds.build({ ...req, signal: io.signal }, (e: BuildEvent) => {
    if (e.type === 'step') io.progress?.(progressId, e.index - 1, e.total, `Step ${e.index}/${e.total} : ${e.text}`);
    if (e.type === 'unpack') io.progress?.(`${progressId}-unpack`, e.done, e.total, `Extracting ${e.name}: ${(e.done / 1e6).toFixed(0)} of ${(e.total / 1e6).toFixed(0)} MB`);
    if (e.type === 'done') io.progress?.(progressId, 1, 1, `Built ${hexOf(e.image.id).slice(0, 12)}${e.tags.length ? ` (${e.tags.join(', ')})` : ''}`);
    if (quiet) return;
    const line = buildLine(e);
    if (e.type === 'output' && e.stream === 'stderr') io.err(line);
    else io.out(line);
  });
  if (quiet) io.out(`${image.id}\n`);
  return image;
}

// --iidfile: the image ID alone, as docker writes it (no newline).
function writeIidFile(file: string, id: string): void {
  try {
    (require('fs') as typeof import('fs')).writeFileSync(file, id);
  } catch (e) {
    throw new BerthError(`cannot write the image ID to ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const buildCommand: Command = {
  name: 'build',
  usage: 'build [OPTIONS] PATH',
  summary: 'Build an image from a Dockerfile',
  flags: buildFlags,
  minArgs: 1,
  maxArgs: 1,
  async run(p, ctx) {
    // Tags are checked as flag values, before anything is built (docker: 125).
    for (const t of p.flags.tag as string[]) {
      try {
        parseReference(t);
      } catch (e) {
        invalidFlag('build', t, '-t, --tag', (e as Error).message);
      }
    }
    const progress = (p.flags.progress as string | undefined) ?? 'auto';
    if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) invalidFlag('build', progress, '--progress', 'use auto, plain, tty or quiet');
    const labels: Record<string, string> = {};
    for (const l of p.flags.label as string[]) {
      const eq = l.indexOf('=');
      if (eq === 0) invalidFlag('build', l, '--label', 'a label needs a name: --label KEY=VALUE');
      labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
    }
    // -f - reads the Dockerfile from stdin, as docker does (a %%build cell's body).
    const fromStdin = p.flags.file === '-';
    const image = await runBuild(ctx, {
      context: p.args[0],
      dockerfile: fromStdin ? undefined : (p.flags.file as string | undefined),
      dockerfileText: fromStdin ? await textFrom(bytesFrom(ctx.io, undefined, 'name the Dockerfile with -f PATH', 'build -f -')) : undefined,
      tags: p.flags.tag as string[],
      target: p.flags.target as string | undefined,
      noCache: p.flags['no-cache'] === true,
      buildArgs: buildArgs(p.flags['build-arg'] as string[], ctx.io.env),
      network: p.flags.network as string | undefined,
      allow: p.flags.allow as string[],
      secrets: secrets(p.flags.secret as string[], ctx.io.env),
      env: ctx.io.env,
      labels,
      platforms: p.flags.platform ? String(p.flags.platform).split(',').map((x) => x.trim()).filter(Boolean) : undefined,
      pull: p.flags.pull === true,
    }, p.flags.quiet === true || progress === 'quiet');
    if (p.flags.iidfile) writeIidFile(String(p.flags.iidfile), image.id);
    return 0;
  },
};

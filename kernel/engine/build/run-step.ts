// RUN: the command runs in a container of the stage's image, on the
// network the build asks for (the default bridge, as docker build), with
// its --mount mounts; its output streams as build events and the
// container's upper dir becomes the next layer. appendLayer is shared with
// COPY and ADD.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import type { ContainerService } from '../containers/service';
import { BuildError, checkAborted } from '../errors';
import { BUILD_OWNER_LABEL } from '../store/recovery';
import { selfId } from '../store/leases';
import { writeLayer } from '../images/diff';
import type { ImageStore } from '../images/store';
import type { Of } from './instructions';
import { DEFAULT_SHELL } from './metadata';
import { DockerfileError, heredocBody, parseHeredoc } from './parser';
import { parseMount, prepareMounts, removeMountStubs } from './run-mounts';
import { layersView } from './layers-view';
import { RootView } from '../store/in-root';
import { RunOptions, stepNetwork } from './step-options';
import { ShellLexer } from './shell-lexer';
import { BuildEvent, State } from './types';
import { trace } from '../trace';

// A directory in snapshot form (RUN's upper dir, COPY's staging dir)
// becomes the stage's next layer. With a SOURCE_DATE_EPOCH, file times
// in the layer are clamped to it.
export async function appendLayer(images: ImageStore, st: State, dir: string, epoch: number | undefined): Promise<void> {
  const tmp = path.join(images.paths.tmp, `layer-${randomBytes(6).toString('hex')}.tar`);
  if (epoch !== undefined) clampTimes(dir, epoch); // the snapshot containers see, as the tar has it
  const layer = await writeLayer(dir, tmp, { epoch, still: true }); // a finished step's or Berth's own staging tree
  const { descriptor, chainId } = await images.snapshots.addLayerFromDir(dir, tmp, layer.diffId, layer.size, st.chainIds[st.chainIds.length - 1]);
  st.layers.push(descriptor);
  st.chainIds.push(chainId);
  st.config.rootfs.diff_ids = [...st.config.rootfs.diff_ids, layer.diffId];
}

// No time in the tree later than epoch (seconds). The directory is Berth's
// own staging or a finished step's upper dir: nothing writes it any more.
function clampTimes(dir: string, epoch: number): void {
  const t = new Date(epoch * 1000);
  const visit = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    if (st.mtimeMs > epoch * 1000) fs.lutimesSync(p, t, t);
  };
  for (const name of fs.readdirSync(dir)) visit(path.join(dir, name));
}

export async function runStep(images: ImageStore, containers: ContainerService, ins: Of<'RUN'>, st: State, vars: Map<string, string>, opts: RunOptions, emit: (e: BuildEvent) => void): Promise<void> {
  if (!st.manifest) throw new DockerfileError(ins.line, 'RUN needs a shell, and a scratch image has none: COPY one in first, or build FROM an image');
  if (ins.security !== undefined && ins.security !== 'sandbox') {
    throw new DockerfileError(ins.line, `RUN --security=${ins.security} is not supported by Berth: a build step never runs privileged`);
  }
  const cfg = st.config.config;
  const shell = cfg.Shell ?? DEFAULT_SHELL;
  let argv = Array.isArray(ins.command) ? ins.command : [...shell, ins.command];
  if (ins.heredocs.length && !Array.isArray(ins.command)) {
    // RUN <<EOF: a lone here-document is the script; else the shell reads
    // the here-documents after the command line, as it would from a file.
    // RUN never expands in the builder: the shell does, at run time.
    const only = ins.heredocs.length === 1 && parseHeredoc(ins.command.trim()) !== undefined;
    argv = only ? [...shell, heredocBody(ins.heredocs[0])] : [...shell, `${ins.command}\n${ins.heredocs.map((h) => `${heredocBody(h)}${h.name}\n`).join('')}`];
  }
  const lex = new ShellLexer({ escape: ins.escape });
  const requests = ins.mounts.map((m) => parseMount(lex.word(m, vars), ins.line));
  const network = stepNetwork(ins, opts);
  const mounts = await prepareMounts(requests, opts.mountEnv, ins.line);
  let id: string | undefined;
  let aborted = () => undefined as void;
  try {
    const env = [...st.args].map(([k, v]) => `${k}=${v}`);
    if (opts.epoch !== undefined && !st.args.has('SOURCE_DATE_EPOCH')) env.push(`SOURCE_DATE_EPOCH=${opts.epoch}`);
    const c = await containers.create({
      image: st.manifest,
      command: argv,
      entrypoint: '',
      env,
      workdir: cfg.WorkingDir || undefined,
      user: cfg.User || undefined,
      tty: false,
      openStdin: false,
      host: { NetworkMode: network === 'default' ? 'bridge' : network },
      mounts: mounts.specs,
      skipImageVolumes: true,
      // Whose step this is: a build killed outright leaves its container,
      // which the next start removes (store/recovery.ts).
      labels: { [BUILD_OWNER_LABEL]: selfId() },
    });
    id = c.record.Id;
    const runId = id;
    // Stopped by the user: the step's processes go at once.
    const kill = () => {
      try {
        containers.signal(runId, 'SIGKILL');
      } catch {
        /* not started yet, or already gone */
      }
    };
    opts.signal?.addEventListener('abort', kill, { once: true });
    aborted = () => opts.signal?.removeEventListener('abort', kill);
    emit({ type: 'running', containerId: id });
    trace(`RUN ${id.slice(0, 12)}: starting the shim`);
    const h = await containers.start(c, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    trace(`RUN ${id.slice(0, 12)}: started, waiting for it to exit`);
    const drain = (s: Readable | null, stream: 'stdout' | 'stderr') =>
      new Promise<void>((resolve) => {
        if (!s) return resolve();
        s.setEncoding('utf8');
        s.on('data', (text: string) => emit({ type: 'output', stream, text }));
        s.on('end', resolve);
        s.on('close', resolve); // a pipe torn down without an EOF must not leave the step waiting
        s.on('error', () => resolve());
      });
    const pumped = Promise.all([drain(h.stdout, 'stdout'), drain(h.stderr, 'stderr')]);
    if (opts.signal?.aborted) kill();
    const exit = await h.exited;
    trace(`RUN ${id.slice(0, 12)}: exited ${exit.exitCode}, draining its output`);
    await pumped;
    trace(`RUN ${id.slice(0, 12)}: output drained`);
    checkAborted(opts.signal, 'the build');
    if (exit.exitCode !== 0) {
      throw new BuildError(`Dockerfile:${ins.line}: The command '${argv.join(' ')}' returned a non-zero code: ${exit.exitCode}`);
    }
    // The finished container's upper dir is already in snapshot form; the
    // stubs of its mount points are not the step's work.
    const upper = path.join(c.bundle, 'upper');
    const below = layersView(images, st.chainIds);
    removeMountStubs(RootView.of(upper), mounts.targets, (rel) => below.lstat(rel) !== undefined);
    await appendLayer(images, st, upper, opts.epoch);
    trace(`RUN ${id.slice(0, 12)}: layer written`);
  } finally {
    aborted();
    mounts.cleanup();
    if (id) {
      await containers.remove(id, true).catch(() => undefined);
      trace(`RUN ${id.slice(0, 12)}: removed`);
      emit({ type: 'removed', containerId: id });
    }
  }
}

// RUN: the command runs in a container of the stage's image, without a
// network, its output streamed as build events; the container's upper dir
// becomes the next layer. appendLayer is shared with COPY and ADD.
import { randomBytes } from 'crypto';
import * as path from 'path';
import { Readable } from 'stream';
import type { ContainerService } from '../containers/service';
import { BuildError } from '../errors';
import { writeLayer } from '../images/diff';
import type { ImageStore } from '../images/store';
import { DEFAULT_SHELL } from './metadata';
import { DockerfileError, Instruction } from './parser';
import { BuildEvent, State } from './types';

// A directory in snapshot form (RUN's upper dir, COPY's staging dir)
// becomes the stage's next layer.
export async function appendLayer(images: ImageStore, st: State, dir: string): Promise<void> {
  const tmp = path.join(images.paths.tmp, `layer-${randomBytes(6).toString('hex')}.tar`);
  const layer = await writeLayer(dir, tmp);
  const { descriptor, chainId } = await images.snapshots.addLayerFromDir(dir, tmp, layer.diffId, layer.size, st.chainIds[st.chainIds.length - 1]);
  st.layers.push(descriptor);
  st.chainIds.push(chainId);
  st.config.rootfs.diff_ids = [...st.config.rootfs.diff_ids, layer.diffId];
}


export async function runStep(images: ImageStore, containers: ContainerService, ins: Instruction, st: State, emit: (e: BuildEvent) => void): Promise<void> {
  if (!st.manifest) throw new DockerfileError(ins.line, 'RUN needs a shell, and a scratch image has none: COPY one in first, or build FROM an image');
  const cfg = st.config.config;
  let argv = ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.rest];
  if (ins.heredocs.length && !ins.json) {
    // RUN <<EOF: the here-document is the script.
    argv = [...(cfg.Shell ?? DEFAULT_SHELL), ins.heredocs.map((h) => h.content).join('\n')];
  }
  const c = await containers.create({
    image: st.manifest,
    command: argv,
    entrypoint: '',
    env: [...st.args].map(([k, v]) => `${k}=${v}`),
    workdir: cfg.WorkingDir || undefined,
    user: cfg.User || undefined,
    tty: false,
    openStdin: false,
    host: { NetworkMode: 'none' },
    skipImageVolumes: true,
  });
  const id = c.record.Id;
  emit({ type: 'running', containerId: id });
  try {
    const h = await containers.start(c, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    const drain = (s: Readable | null, stream: 'stdout' | 'stderr') =>
      new Promise<void>((resolve) => {
        if (!s) return resolve();
        s.setEncoding('utf8');
        s.on('data', (text: string) => emit({ type: 'output', stream, text }));
        s.on('end', resolve);
        s.on('error', () => resolve());
      });
    const pumped = Promise.all([drain(h.stdout, 'stdout'), drain(h.stderr, 'stderr')]);
    const exit = await h.exited;
    await pumped;
    if (exit.exitCode !== 0) {
      throw new BuildError(`Dockerfile:${ins.line}: The command '${argv.join(' ')}' returned a non-zero code: ${exit.exitCode}`);
    }
    // The finished container's upper dir is already in snapshot form.
    await appendLayer(images, st, path.join(c.bundle, 'upper'));
  } finally {
    await containers.remove(id, true).catch(() => undefined);
    emit({ type: 'removed', containerId: id });
  }
}


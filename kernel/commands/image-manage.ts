// history, tag, rmi, image prune, commit and diff.
import { BerthError, Change, NotFoundError, RemovedImage, hexOf } from '../engine';
import { table } from '../render/table';
import { ago, humanSize } from '../render/units';
import { Command } from './types';

export const historyCommand: Command = {
  name: 'history',
  usage: 'history [OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  flags: [
    { long: 'human', short: 'H', kind: 'bool', help: 'Print sizes and dates in human readable format (default true)' },
    { long: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Only show image IDs' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const img = engine.images.resolve(p.args[0]);
    const noTrunc = p.flags['no-trunc'] === true;
    const human = p.flags.human !== false;
    if (p.flags.quiet === true) {
      io.out(`${noTrunc ? img.id : hexOf(img.id).slice(0, 12)}\n`);
      return 0;
    }
    const sizes = [...img.layers.map((l) => l.size)];
    const rows = [...img.config.history].reverse().map((h, i) => {
      const size = h.empty_layer ? 0 : sizes.pop() ?? 0;
      const by = h.created_by ?? '';
      return [
        i === 0 ? (noTrunc ? img.id : hexOf(img.id).slice(0, 12)) : '<missing>',
        human ? ago(h.created) : h.created,
        noTrunc ? by : by.length > 45 ? `${by.slice(0, 44)}…` : by,
        human ? humanSize(size) : String(size),
        h.comment ?? '',
      ];
    });
    io.show(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], rows));
    return 0;
  },
};

export const tagCommand: Command = {
  name: 'tag',
  usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(p, { engine }) {
    engine.images.tag(p.args[0], p.args[1]);
    return 0;
  },
};

export function removedLines(r: RemovedImage, untagged = 'Untagged', deleted = 'Deleted'): string[] {
  return [...r.untagged.map((t) => `${untagged}: ${t}`), ...(r.deleted ? [`${deleted}: ${r.deleted}`] : [])];
}

export const rmiCommand: Command = {
  name: 'rmi',
  usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  flags: [{ long: 'force', short: 'f', kind: 'bool', help: 'Force removal of the image' }],
  minArgs: 1,
  async run(p, ctx) {
    let code = 0;
    for (const ref of p.args) {
      try {
        ctx.io.out(removedLines(ctx.engine.images.remove(ref, p.flags.force === true)).map((l) => `${l}\n`).join(''));
      } catch (e) {
        if (!(e instanceof BerthError)) throw e;
        ctx.io.err(`Error response from daemon: ${e instanceof NotFoundError ? `No such image: ${ref}` : e.message}\n`);
        code = 1;
      }
    }
    return code;
  },
};

export const imagePruneCommand: Command = {
  name: 'image-prune',
  usage: 'image prune [OPTIONS]',
  summary: 'Remove unused images (dangling ones; with -a every image no container uses)',
  flags: [
    { long: 'all', short: 'a', kind: 'bool', help: 'Remove all unused images, not just dangling ones' },
    { long: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
  async run(p, ctx) {
    const { removed, reclaimed } = ctx.engine.images.prune(p.flags.all === true);
    const out = removed.flatMap((r) => removedLines(r, 'untagged', 'deleted'));
    ctx.io.out(`${out.length ? `Deleted Images:\n${out.join('\n')}\n\n` : ''}Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};

export const commitCommand: Command = {
  name: 'commit',
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: "Create a new image from a container's changes",
  flags: [
    { long: 'message', short: 'm', kind: 'string', help: 'Commit message' },
    { long: 'author', short: 'a', kind: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { long: 'change', short: 'c', kind: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { long: 'pause', short: 'p', kind: 'bool', help: 'Pause container during commit (default true)' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(p, { engine, io }) {
    const img = await engine.containers.commit(p.args[0], {
      ref: p.args[1],
      message: p.flags.message as string | undefined,
      author: p.flags.author as string | undefined,
      changes: p.flags.change as string[],
      pause: p.flags.pause !== false,
      signal: io.signal,
    });
    (io.value ?? io.out)(`${img.id}\n`);
    return 0;
  },
};

export const diffCommand: Command = {
  name: 'diff',
  usage: 'diff CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    io.out(engine.containers.changes(p.args[0]).map((ch: Change) => `${ch.kind} ${ch.path}\n`).join(''));
    return 0;
  },
};

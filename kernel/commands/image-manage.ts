// history, tag, rmi, image prune, commit and diff.
import { BerthError, NotFoundError } from '../engine/errors';
import { commitContainer, containerChanges } from '../engine/containers/commit';
import { hexOf } from '../engine/images/digest';
import { formatReference, parseReference } from '../engine/images/reference';
import { Image } from '../engine/images/types';
import { table } from '../render/table';
import { ago, humanSize } from '../render/units';
import { Command, CommandContext } from './types';

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
    const img = engine.images.resolve(p.args[0]);
    const m = img.layers; // validates the manifest is readable
    void m;
    engine.images.tag(img.manifestDigest, 0, p.args[1]);
    return 0;
  },
};

function usersOf(ctx: CommandContext, img: Image) {
  return ctx.engine.containers.list(true).filter((c) => c.record.Image === img.id);
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
        const img = ctx.engine.images.resolve(ref);
        const users = usersOf(ctx, img);
        // One name of several only goes away, whoever uses the image (as docker does).
        const byName = /^[a-f0-9]{4,64}$/.test(ref.replace(/^sha256:/, '')) && img.refs.length !== 1 ? undefined : formatReference(parseReference(ref));
        if (byName && img.refs.includes(byName) && img.refs.length > 1) {
          ctx.engine.images.untag(byName);
          ctx.io.out(`Untagged: ${byName}\n`);
          continue;
        }
        const running = users.find((c) => c.state.Running);
        if (running) throw new BerthError(`conflict: unable to remove ${ref} (cannot be forced) - image is being used by running container ${running.record.Id.slice(0, 12)}; stop and remove it first`, 1);
        if (users.length && p.flags.force !== true) {
          throw new BerthError(`conflict: unable to delete ${hexOf(img.id).slice(0, 12)} (must be forced) - image is being used by stopped container ${users[0].record.Id.slice(0, 12)}; remove it, or use rmi -f`, 1);
        }
        for (const r of img.refs) ctx.io.out(`Untagged: ${r}\n`);
        const keep = new Set(ctx.engine.containers.list(true).flatMap((c) => c.record.Layers));
        ctx.engine.images.forget(img.manifestDigest, keep);
        ctx.io.out(`Deleted: ${img.id}\n`);
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
    const used = new Set(ctx.engine.containers.list(true).map((c) => c.record.Image));
    const victims = ctx.engine.images.list().filter((i) => !used.has(i.id) && (p.flags.all === true || i.refs.length === 0));
    let reclaimed = 0;
    const keep = new Set(ctx.engine.containers.list(true).flatMap((c) => c.record.Layers));
    const out: string[] = [];
    for (const img of victims) {
      for (const r of img.refs) out.push(`untagged: ${r}`);
      out.push(`deleted: ${img.id}`);
    }
    const before = ctx.engine.images.list().reduce((n, i) => n + i.size, 0);
    for (const img of victims) ctx.engine.images.forget(img.manifestDigest, keep);
    reclaimed = Math.max(0, before - ctx.engine.images.list().reduce((n, i) => n + i.size, 0));
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
    const c = engine.containers.get(p.args[0]);
    const img = await commitContainer(engine.images, c, {
      ref: p.args[1],
      message: p.flags.message as string | undefined,
      author: p.flags.author as string | undefined,
      changes: p.flags.change as string[],
      pause: p.flags.pause !== false,
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
    const c = engine.containers.get(p.args[0]);
    io.out(containerChanges(engine.images, c).map((ch) => `${ch.kind} ${ch.path}\n`).join(''));
    return 0;
  },
};

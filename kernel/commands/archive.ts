// save, load and export.
import * as fs from 'fs';
import { BerthError } from '../engine/errors';
import { exportContainer } from '../engine/containers/commit';
import { loadImages, saveImages } from '../engine/images/archive';
import { formatReference, parseReference } from '../engine/images/reference';
import { Command } from './types';

function output(file: string | undefined, isTerminal: boolean): NodeJS.WritableStream {
  if (file) return fs.createWriteStream(file);
  if (isTerminal) throw new BerthError('refusing to write a tar archive to a terminal; use -o FILE or redirect the output', 1);
  return process.stdout;
}

export const saveCommand: Command = {
  name: 'save',
  usage: 'save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (docker-archive and OCI layout in one)',
  flags: [{ long: 'output', short: 'o', kind: 'string', help: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  async run(p, { engine, io }) {
    const picked = p.args.map((ref) => {
      const image = engine.images.resolve(ref);
      const isId = /^(sha256:)?[a-f0-9]{4,64}$/.test(ref) && !image.refs.includes(formatReference(parseReference(ref)));
      return { image, refs: isId ? [] : [formatReference(parseReference(ref))] };
    });
    await saveImages(engine.images, picked, output(p.flags.output as string | undefined, io.isTerminal && process.stdout.isTTY === true));
    return 0;
  },
};

export const loadCommand: Command = {
  name: 'load',
  usage: 'load [OPTIONS]',
  summary: 'Load images from a tar archive (docker-archive or oci-archive) or STDIN',
  flags: [
    { long: 'input', short: 'i', kind: 'string', help: 'Read from tar archive file, instead of STDIN' },
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Suppress the load output' },
  ],
  maxArgs: 0,
  async run(p, { engine, io }) {
    const file = p.flags.input as string | undefined;
    if (file && !fs.existsSync(file)) throw new BerthError(`open ${file}: no such file or directory`, 1);
    const loaded = await loadImages(engine.images, file ? fs.createReadStream(file) : process.stdin);
    if (p.flags.quiet !== true) for (const img of loaded) io.out(img.refs.length ? img.refs.map((r) => `Loaded image: ${r}\n`).join('') : `Loaded image ID: ${img.id}\n`);
    return 0;
  },
};

export const exportCommand: Command = {
  name: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  flags: [{ long: 'output', short: 'o', kind: 'string', help: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  maxArgs: 1,
  async run(p, { engine, io }) {
    const c = engine.containers.get(p.args[0]);
    await exportContainer(engine.images, c, output(p.flags.output as string | undefined, io.isTerminal && process.stdout.isTTY === true));
    return 0;
  },
};

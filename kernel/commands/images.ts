import { BerthError } from '../engine';
import { IMAGE_HEADERS, IMAGE_TABLE, imageRows, imagesTable } from '../render/images';
import { formatList } from '../render/template';
import { Command } from './types';

export const imagesCommand: Command = {
  name: 'images',
  usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  flags: [
    { long: 'all', short: 'a', kind: 'bool', help: 'Show all images (default hides intermediate images)' },
    { long: 'quiet', short: 'q', kind: 'bool', help: 'Only show image IDs' },
    { long: 'no-trunc', kind: 'bool', help: "Don't truncate output" },
    { long: 'digests', kind: 'bool', help: 'Show digests' },
    { long: 'filter', short: 'f', kind: 'list', help: 'Filter output based on conditions provided (dangling=true|false, reference=PATTERN)' },
    { long: 'format', kind: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or 'TEMPLATE'" },
  ],
  maxArgs: 1,
  async run(p, { engine, io }) {
    let images = engine.images.list().filter((i) => p.flags.all === true || !i.intermediate);
    for (const f of p.flags.filter as string[]) {
      const [k, v] = f.split('=');
      if (k === 'dangling') images = images.filter((i) => (i.refs.length === 0) === (v === 'true'));
      else if (k === 'reference') {
        const re = new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(:.*)?$`);
        images = images.map((i) => ({ ...i, refs: i.refs.filter((r) => re.test(r)) })).filter((i) => i.refs.length > 0);
      } else throw new BerthError(`invalid filter '${f}': use dangling=true|false or reference=PATTERN`);
    }
    if (p.args[0]) {
      // A tag follows the last "/" ("localhost:5000/app:v1").
      const arg = p.args[0];
      const colon = arg.lastIndexOf(':');
      const [repo, tag] = colon > arg.lastIndexOf('/') ? [arg.slice(0, colon), arg.slice(colon + 1)] : [arg, undefined];
      images = images
        .map((i) => ({ ...i, refs: i.refs.filter((r) => r.startsWith(`${repo}:`) && (!tag || r === `${repo}:${tag}`)) }))
        .filter((i) => i.refs.length > 0);
    }
    const format = p.flags.format as string | undefined;
    if (format && format !== 'table' && p.flags.quiet !== true) {
      io.show({ text: formatList(format, imageRows(images, p.flags['no-trunc'] === true), IMAGE_HEADERS, IMAGE_TABLE) });
      return 0;
    }
    io.show(imagesTable(images, { quiet: p.flags.quiet === true, noTrunc: p.flags['no-trunc'] === true, digests: p.flags.digests === true }));
    return 0;
  },
};

export const importCommand: Command = {
  name: 'import',
  usage: 'import [OPTIONS] file|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  flags: [
    { long: 'change', short: 'c', kind: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', kind: 'string', help: 'Set commit message for imported image' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(p, { engine, io }) {
    const img = await engine.images.import({
      source: p.args[0],
      input: p.args[0] === '-' ? io.bytesIn?.() : undefined,
      ref: p.args[1],
      message: p.flags.message as string | undefined,
      changes: p.flags.change as string[],
    });
    (io.value ?? io.out)(`${img.id}\n`);
    return 0;
  },
};

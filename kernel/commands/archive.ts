// save, load and export.
import { bytesFrom, bytesTo } from './bytes';
import { Command } from './types';

export const saveCommand: Command = {
  name: 'save',
  usage: 'save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (docker-archive and OCI layout in one)',
  flags: [{ long: 'output', short: 'o', kind: 'string', help: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  async run(p, { engine, io }) {
    const picked = p.args.map((ref) => {
      const image = engine.images.resolve(ref);
      const name = engine.images.nameOf(ref, image);
      return { image, refs: name ? [name] : [] };
    });
    await engine.images.save(picked, bytesTo(io, p.flags.output as string | undefined, 'a tar archive', 'save'));
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
    const input = bytesFrom(io, p.flags.input as string | undefined, 'name the archive with -i FILE', 'load');
    const loaded = await engine.images.load(input, io.signal);
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
    engine.containers.get(p.args[0]); // a missing container is named before any file is made
    await engine.containers.export(p.args[0], bytesTo(io, p.flags.output as string | undefined, 'a tar archive', 'export'));
    return 0;
  },
};

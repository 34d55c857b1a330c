// inspect: docker's JSON shape for containers and images, or a --format template.
import { BerthError, maskEnv, NotFoundError } from '../engine';
import { renderTemplate } from '../render/template';
import { Command, Io } from './types';

// What every inspect prints: a JSON array, or one --format line per object.
export function printInspected(io: Io, objects: unknown[], format: unknown): void {
  // An empty --format is docker's default: the indented JSON.
  if (typeof format === 'string' && format !== '') {
    for (const o of objects) (io.value ?? io.out)(renderTemplate(format, o) + '\n');
  } else {
    io.out(JSON.stringify(objects, null, 4) + '\n');
  }
}

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on containers or images',
  flags: [
    { long: 'format', short: 'f', kind: 'string', help: 'Format output using a Go template' },
    { long: 'type', kind: 'string', help: 'Only inspect objects of the given type (container or image)' },
  ],
  minArgs: 1,
  async run(p, { engine, io }) {
    const type = p.flags.type as string | undefined;
    // A notebook's outputs are saved and shared: its inspect hides secrets.
    const masked = (o: Record<string, unknown>, ref: string) => {
      if (!io.masksSecrets) return o;
      const config = o.Config as { Env?: string[] };
      return { ...o, Config: { ...config, Env: maskEnv(config.Env ?? [], engine.containers.get(ref).record.SecretEnv) } };
    };
    const results: Record<string, unknown>[] = [];
    let code = 0;
    for (const ref of p.args) {
      try {
        if (type !== 'image') {
          try {
            results.push(masked(engine.containers.inspect(ref), ref));
            continue;
          } catch (e) {
            if (!(e instanceof NotFoundError) || type === 'container') throw e;
          }
        }
        results.push(engine.images.inspect(ref));
      } catch (e) {
        if (!(e instanceof BerthError)) throw e;
        io.err(`Error: No such object: ${ref}\n`);
        code = 1;
      }
    }
    printInspected(io, results, p.flags.format);
    return code;
  },
};

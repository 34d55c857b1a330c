// Commands that take several names (rm, stop, network rm, volume rm) go on
// past a failed one, as docker does: each error is reported and the exit
// code is 1 if any failed.
import { BerthError } from '../engine';
import { Parsed } from './flags';
import { CommandContext } from './types';

export async function forEachArg(p: Parsed, ctx: CommandContext, fn: (ref: string) => Promise<string | void> | string | void, isValue = false): Promise<number> {
  let code = 0;
  for (const ref of p.args) {
    try {
      const shown = await fn(ref);
      (isValue && ctx.io.value ? ctx.io.value : ctx.io.out)(`${shown ?? ref}\n`);
    } catch (e) {
      if (!(e instanceof BerthError)) throw e;
      ctx.io.err(`Error response from daemon: ${e.message}\n`);
      code = 1;
    }
  }
  return code;
}

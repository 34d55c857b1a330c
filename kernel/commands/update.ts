// `update`: new resource limits for one or more containers, as docker's
// container update; a running container gets them at once.
import { forEachArg } from './each';
import { limitFlags, limitsFromFlags } from './limit-flags';
import { UsageError } from './flags';
import { Command } from './types';

export const updateCommand: Command = {
  name: 'update',
  usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Update configuration of one or more containers',
  flags: limitFlags,
  minArgs: 1,
  run: (p, ctx) => {
    // Every value is checked before any container changes.
    if (Object.keys(limitsFromFlags('update', p.flags)).length === 0) {
      throw new UsageError('you must provide one or more flags when using this command', 'update');
    }
    return forEachArg(p, ctx, (ref) => {
      const current = ctx.engine.containers.get(ref).record.HostConfig;
      ctx.engine.containers.update(ref, limitsFromFlags('update', p.flags, current));
    });
  },
};

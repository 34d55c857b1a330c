// start, stop, restart, kill, rm, wait: each takes one or more containers,
// prints each name as docker does, and goes on past a failing one.
import { forEachArg } from './each';
import { BerthError } from '../engine';
import { Parsed } from './flags';
import { Command } from './types';

function seconds(p: Parsed, fallback: number): number {
  const t = p.flags.time ?? p.flags.timeout;
  if (typeof t !== 'string') return fallback;
  const n = Number(t);
  if (!Number.isInteger(n)) throw new BerthError(`invalid argument "${t}" for "-t, --time" flag: expected whole seconds`);
  return n;
}

const timeFlag = { long: 'time', short: 't', kind: 'string' as const, value: 'int', help: 'Seconds to wait before killing the container', default: '10', aliases: ['timeout'] };

export const startCommand: Command = {
  name: 'start',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  flags: [],
  minArgs: 1,
  run: (p, ctx) => forEachArg(p, ctx, async (ref) => void (await ctx.engine.containers.start(ref))),
};

export const stopCommand: Command = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers (SIGTERM, then SIGKILL after a grace period)',
  flags: [timeFlag],
  minArgs: 1,
  run: (p, ctx) => {
    const t = seconds(p, 10);
    return forEachArg(p, ctx, async (ref) => void (await ctx.engine.containers.stop(ref, t)));
  },
};

export const restartCommand: Command = {
  name: 'restart',
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  flags: [timeFlag],
  minArgs: 1,
  run: (p, ctx) => {
    const t = seconds(p, 10);
    return forEachArg(p, ctx, async (ref) => void (await ctx.engine.containers.restart(ref, t)));
  },
};

export const killCommand: Command = {
  name: 'kill',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  flags: [{ long: 'signal', short: 's', kind: 'string', help: 'Signal to send to the container', default: 'KILL' }],
  minArgs: 1,
  run: (p, ctx) => {
    const sig = typeof p.flags.signal === 'string' ? p.flags.signal : 'KILL';
    return forEachArg(p, ctx, async (ref) => void ctx.engine.containers.signal(ref, sig));
  },
};

export const rmCommand: Command = {
  name: 'rm',
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  flags: [
    { long: 'force', short: 'f', kind: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
    { long: 'volumes', short: 'v', kind: 'bool', help: 'Remove anonymous volumes associated with the container' },
  ],
  minArgs: 1,
  run: (p, ctx) => forEachArg(p, ctx, async (ref) => void (await ctx.engine.containers.remove(ref, p.flags.force === true, p.flags.volumes === true))),
};

export const waitCommand: Command = {
  name: 'wait',
  usage: 'wait CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  flags: [],
  minArgs: 1,
  run: (p, ctx) => forEachArg(p, ctx, async (ref) => String(await ctx.engine.containers.wait(ref)), true),
};

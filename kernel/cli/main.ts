#!/usr/bin/env node
// The terminal front end: the same commands as the kernel, printed as text.
// Kept lean: Node's start-up dominates a CLI call, so only the engine parts a
// command needs are loaded (the engine's services load on first use).
import * as path from 'path';
import { installCompileCache } from './compile-cache';
import { needsRootlessEntry, reenterRootless } from './rootless-entry';

// Only for short calls: the long-lived kernel would fill the cache with code
// a CLI call never runs, and a CLI call would pay to read it.
if (process.argv[2] !== 'kernel') installCompileCache(path.resolve(__dirname, '..', '..'));

// Loaded after the cache is in place, so they come from it.
import { execute } from '../commands/registry';
import { terminalIo as io } from './terminal-io';

async function main(argv: string[]): Promise<number> {
  // A user who is not root, started without bin/berth, goes into their own
  // namespace first: the same command again, one more Node start.
  if (needsRootlessEntry(argv)) return reenterRootless(argv);
  if (argv[0] === 'demo') return (await import('./demo')).demo(io);
  if (argv[0] === 'kernel') {
    await (await import('../notebook/install')).runKernel(argv.slice(1));
    return new Promise<number>(() => undefined); // runs until shutdown_request
  }
  if (argv[0] === 'install') {
    io.out(`Installed kernelspec berth in ${(await import('../notebook/install')).install(argv.slice(1))}\n`);
    return 0;
  }
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') argv = argv.slice(1).concat(argv.length > 1 ? ['--help'] : []);
  if (argv[0] === 'version' || argv[0] === '--version') {
    io.out(`Berth version ${require('../../../package.json').version}\n`);
    return 0;
  }
  const { BerthError, Engine } = await import('../engine');
  let engine;
  try {
    engine = new Engine();
  } catch (e) {
    if (e instanceof BerthError) e.command = (await import('./exit-codes')).ENGINE_START;
    throw e;
  }
  const notice = engine.notice();
  if (notice) process.stderr.write(`berth: ${notice}\n`);
  return execute(argv, { engine, io });
}

let settled = false;
// The event loop emptied while the command still had work to finish: a
// promise nothing will ever settle. Never let that pass as success.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  const { recentTrace } = require('../engine') as typeof import('../engine');
  process.stderr.write(`berth: internal error: the command stopped before it finished, with nothing left to wait for; please report it with what it was doing:\n${recentTrace().map((l) => `  ${l}\n`).join('') || '  (no trace)\n'}`);
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (e: unknown) => {
    settled = true;
    const { asBerthError } = require('../engine') as typeof import('../engine');
    const { exitCodeFor } = require('./exit-codes') as typeof import('./exit-codes');
    const err = asBerthError(e);
    if (err.kind === 'internal') {
      process.stderr.write(`berth: ${err.message}\n${process.env.BERTH_DEBUG ? `${err.stack}\n` : 'Set BERTH_DEBUG=1 for details and report it.\n'}`);
    } else {
      process.stderr.write(`berth: ${err.message}\n`);
    }
    process.exitCode = exitCodeFor(err);
  },
);

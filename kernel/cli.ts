#!/usr/bin/env node
// The terminal front end: the same commands as the kernel, printed as text.
// Kept lean: Node's start-up dominates a CLI call, so only the engine parts a
// command needs are loaded.
import { execute } from './commands/registry';
import { Io } from './commands/types';

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

const io: Io = {
  out: (t) => void process.stdout.write(t),
  show: (r) => void process.stdout.write(r.text),
  err: (t) => void process.stderr.write(t),
  // The shim writes straight to this terminal (or pipe): no copy through Node.
  attach: (interactive) => ({ stdin: interactive ? 'inherit' : 'ignore', stdout: 'inherit', stderr: 'inherit' }),
  onSignal(forward) {
    const handlers = forwarded.map((sig) => {
      const h = () => forward(sig);
      process.on(sig, h);
      return [sig, h] as const;
    });
    return () => handlers.forEach(([sig, h]) => process.off(sig, h));
  },
  isTerminal: process.stdout.isTTY === true,
};

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'demo') return (await import('./demo')).demo(io);
  if (argv[0] === 'kernel') {
    await (await import('./install')).runKernel(argv.slice(1));
    return new Promise<number>(() => undefined); // runs until shutdown_request
  }
  if (argv[0] === 'install') {
    io.out(`Installed kernelspec berth in ${(await import('./install')).install(argv.slice(1))}\n`);
    return 0;
  }
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') argv = argv.slice(1).concat(argv.length > 1 ? ['--help'] : []);
  if (argv[0] === 'version' || argv[0] === '--version') {
    io.out(`Berth version ${require('../../package.json').version}\n`);
    return 0;
  }
  const { Engine } = await import('./engine');
  return execute(argv, { engine: new Engine(), io });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const { BerthError } = require('./engine/errors') as typeof import('./engine/errors');
    if (e instanceof BerthError) {
      process.stderr.write(`berth: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      const err = e as Error;
      process.stderr.write(`berth: internal error: ${err.message}\n${process.env.BERTH_DEBUG ? `${err.stack}\n` : 'Set BERTH_DEBUG=1 for details and report it.\n'}`);
      process.exitCode = 125;
    }
  },
);

// The CLI started directly (node dist/kernel/cli/main.js) by a user who is
// not root: run the same command again through `berth-shim enter`, which
// puts it in the user's own namespace (see native/src/shim/rootless.h).
// bin/berth goes there straight away and never pays for this.
import { spawn } from 'child_process';
import * as path from 'path';

// Commands that touch no container state run where they are.
const OUTSIDE = new Set(['install', 'version', '--version', 'help', '--help', '-h']);

export function needsRootlessEntry(argv: string[]): boolean {
  return (process.getuid?.() ?? 0) !== 0 && !process.env.BERTH_ROOTLESS && !OUTSIDE.has(argv[0] ?? '');
}

export function reenterRootless(argv: string[]): Promise<number> {
  const shim = path.resolve(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'berth-shim');
  const child = spawn(shim, ['enter', process.execPath, ...process.execArgv, path.join(__dirname, 'main.js'), ...argv], { stdio: 'inherit' });
  // Signals meant for this process reach the command too.
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, forward(sig));
  process.on('SIGINT', () => undefined); // the terminal sends it to the child as well
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`berth: cannot start ${shim}: ${e.message}; run \`npm run setup\` (as root) once\n`);
      resolve(125);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? require('os').constants.signals[signal] : 0)));
  });
}

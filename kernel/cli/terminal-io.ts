// The terminal's Io: text to stdout and stderr, bytes to and from the
// process's own stdio, containers attached straight to this terminal.
import { Io } from '../commands/types';

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

// Ctrl-C stops a long operation through one AbortSignal, made (and the
// handler installed) only when a command reads it: commands that never do
// keep the default, which ends the process. A second Ctrl-C ends it at
// once, whatever is left (the next start cleans up after it).
let controller: AbortController | undefined;
function cancellation(): AbortSignal {
  if (!controller) {
    const c = new AbortController();
    controller = c;
    const stop = () => {
      if (c.signal.aborted) process.exit(130);
      c.abort();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  return controller.signal;
}

export const terminalIo: Io = {
  get signal() {
    return cancellation();
  },
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
  env: process.env,
  bytesOut: () => (process.stdout.isTTY ? undefined : process.stdout),
  bytesIn: () => process.stdin,
};

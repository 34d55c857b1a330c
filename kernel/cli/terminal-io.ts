// The terminal's Io: text to stdout and stderr, bytes to and from the
// process's own stdio, containers attached straight to this terminal.
import { Io } from '../commands/types';

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export const terminalIo: Io = {
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

import { drainAfterExit } from './streams';
import { Command } from './types';

export const execCommand: Command = {
  name: 'exec',
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  interspersed: false,
  flags: [
    { long: 'interactive', short: 'i', kind: 'bool', help: 'Keep STDIN open even if not attached' },
    { long: 'tty', short: 't', kind: 'bool', help: 'Allocate a pseudo-TTY' },
    { long: 'env', short: 'e', kind: 'list', help: 'Set environment variables' },
    { long: 'workdir', short: 'w', kind: 'string', help: 'Working directory inside the container' },
    { long: 'user', short: 'u', kind: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    { long: 'detach', short: 'd', kind: 'bool', help: 'Detached mode: run command in the background' },
  ],
  minArgs: 2,
  async run(p, { engine, io }) {
    const [ref, ...command] = p.args;
    const detach = p.flags.detach === true;
    const attach = detach ? { stdin: 'ignore' as const, stdout: 'ignore' as const, stderr: 'ignore' as const } : io.attach(p.flags.interactive === true);
    const h = await engine.containers.exec(ref, {
      command,
      env: (p.flags.env as string[]).filter((e) => e.includes('=')),
      workdir: p.flags.workdir as string | undefined,
      user: p.flags.user as string | undefined,
      tty: p.flags.tty === true,
      interactive: p.flags.interactive === true,
    }, attach);
    if (detach) {
      h.detach();
      return 0;
    }
    const pumping = io.pump?.(h, p.flags.interactive === true);
    const code = (await h.exited).exitCode;
    await drainAfterExit(h, pumping);
    return code;
  },
};

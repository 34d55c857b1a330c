// `berth demo`: a short tour in a terminal that runs real
// containers and shows what each command prints.
import { execute } from '../commands/registry';
import { Io } from '../commands/types';
import { Engine } from '../engine';

export async function demo(io: Io): Promise<number> {
  const engine = new Engine();
  const steps: string[][] = [
    ['images'],
    ['run', '--rm', 'busybox', 'sh', '-c', 'echo "hello from $(hostname), I am PID $$"; ps'],
    ['run', '--rm', '-m', '32m', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || echo "memory limit set through cgroup v1"'],
    ['run', '-d', '--name', 'berth-demo', 'busybox', 'sh', '-c', 'while true; do date; sleep 1; done'],
    ['ps'],
    ['exec', 'berth-demo', 'ps'],
    ['top', 'berth-demo'],
    ['stats', '--no-stream', 'berth-demo'],
    ['logs', '--tail', '2', 'berth-demo'],
    ['stop', '-t', '1', 'berth-demo'],
    ['ps', '-a', '--filter-demo'],
    ['rm', 'berth-demo'],
  ];
  try {
    await engine.containers.remove('berth-demo', true);
  } catch {
    /* not there */
  }
  for (const argv of steps) {
    if (argv[2] === '--filter-demo') argv.pop();
    io.out(`\n$ berth ${argv.map((a) => (/\s|[$"]/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
    const code = await execute(argv, { engine, io });
    if (code !== 0) io.out(`(exit code ${code})\n`);
  }
  io.out('\nIn JupyterLab, pick the Berth kernel (`berth install` adds it) and run the same commands as %magics; `berth help` lists every command.\n');
  return 0;
}

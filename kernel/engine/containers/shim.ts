// Starting berth-shim and reading its status pipe (fd 3; shim-status.ts).
import type { ChildProcess } from 'child_process';
import { Readable, Writable } from 'stream';
import { BerthError, CommandStartError } from '../errors';
import { shimPath } from '../native';
import { parseShimStatus } from './shim-status';
import { AttachOptions, ExitInfo, measured } from './types';

export interface ShimHandle {
  pid: number; // the container's (or exec'd process's) pid on the host
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  exited: Promise<ExitInfo>;
  // Stops listening: the shim keeps the container running and logging.
  detach(): void;
}

// The shim's error codes are docker's: 127 the command is missing, 126 it
// cannot be executed, anything else the container could not be set up.
function startError(code: number, message: string): BerthError {
  if (code === 127) return new CommandStartError(message, 'not-found');
  if (code === 126) return new CommandStartError(message, 'permission');
  return new BerthError(message, 'unavailable');
}


export function startShim(mode: 'run' | 'exec', configFile: string, attach: AttachOptions): Promise<ShimHandle> {
  // child_process loads here, not with the module: `ps` never spawns.
  const child: ChildProcess = (require('child_process') as typeof import('child_process')).spawn(shimPath, [mode, configFile], {
    detached: true, // its own session: the shim outlives whoever started it
    stdio: [attach.stdin, attach.stdout, attach.stderr, 'pipe'],
  });
  const status = child.stdio[3] as Readable;
  let buffered = '';
  let resolveExit!: (e: ExitInfo) => void;
  let rejectExit!: (e: Error) => void;
  const exited = new Promise<ExitInfo>((res, rej) => {
    resolveExit = res;
    rejectExit = rej;
  });
  exited.catch(() => undefined); // a caller that detaches never awaits it
  return new Promise<ShimHandle>((resolve, reject) => {
    let started = false;
    const detach = () => {
      status.destroy();
      child.unref();
      (child.stdin as Writable | null)?.destroy();
    };
    const onLine = (line: string) => {
      const st = parseShimStatus(line);
      if (st?.kind === 'started' && !started) {
        started = true;
        resolve({ pid: st.pid, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exited, detach });
      } else if (st?.kind === 'error' && !started) {
        started = true;
        reject(startError(st.code, st.message));
      } else if (st?.kind === 'exited') {
        resolveExit({ exitCode: st.exitCode, oomKilled: st.oomKilled, peakMemory: measured(st.peakBytes), cpuNs: measured(st.cpuNs) });
      }
    };
    status.setEncoding('utf8');
    status.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    status.on('error', () => undefined);
    status.on('close', () => {
      if (!started) reject(new BerthError('berth-shim exited before starting the container; run `npm run setup` to rebuild it', 'unavailable'));
      rejectExit(new BerthError('lost contact with the container supervisor', 'unavailable'));
    });
    child.on('error', (e) => {
      if (!started) reject(new BerthError(`cannot start berth-shim (${e.message}); run \`npm run setup\` to build it`, 'unavailable'));
    });
  });
}

// The shim's config file: NUL-separated key/value pairs, keys repeated for lists.
export function encodeShimConfig(pairs: Array<[string, string | number | boolean | undefined]>): Buffer {
  const parts: string[] = [];
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    const val = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    if (val.includes('\0')) throw new BerthError(`the value of ${k} contains a NUL byte, which no process can receive`);
    parts.push(k, val);
  }
  return Buffer.from(parts.join('\0') + '\0');
}

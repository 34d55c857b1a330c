// The one place where an engine error or a command's exit code becomes a
// cell's error reply (ename, evalue, traceback), as ipykernel shapes them.
import { BerthError, BuildError } from '../engine';
import { UsageError } from '../commands/flags';
import { CellSyntaxError } from '../commands/cell';
import type { ExecuteOutcome } from '../jupyter/interpreter-api';

const ENAME_BY_KIND: Record<BerthError['kind'], string> = {
  'not-found': 'NotFound',
  conflict: 'Conflict',
  'invalid-argument': 'BerthError',
  unavailable: 'Unavailable',
  permission: 'PermissionDenied',
  cancelled: 'KeyboardInterrupt', // as ipykernel names an interrupted cell
  internal: 'InternalError',
};

export function failure(ename: string, evalue: string): ExecuteOutcome {
  return { status: 'error', ename, evalue, traceback: [`\x1b[0;31m${ename}\x1b[0m: ${evalue}`] };
}

export function errorOutcome(e: BerthError): ExecuteOutcome {
  if (e instanceof CellSyntaxError) return failure('BerthSyntaxError', e.message);
  if (e instanceof UsageError) return failure('UsageError', e.message);
  if (e.kind === 'cancelled') return failure(ENAME_BY_KIND.cancelled, e.message);
  if (e instanceof BuildError || e.command === 'build') return failure('BuildError', e.message);
  return failure(ENAME_BY_KIND[e.kind], e.message);
}

function exitMeaning(code: number): string {
  if (code === 137) return 'killed (SIGKILL), e.g. out of memory or stopped';
  if (code === 143) return 'terminated (SIGTERM)';
  if (code === 130) return 'interrupted (SIGINT)';
  if (code === 127) return 'command not found';
  return 'the command failed';
}

export function exitOutcome(command: string, code: number, oomKilled: boolean): ExecuteOutcome {
  const meaning = oomKilled ? 'killed by the out-of-memory killer: raise -m or use less memory' : exitMeaning(code);
  const what = command === 'run' || command === 'exec' ? `the container exited with code ${code}: ${meaning}` : `%${command} failed (exit code ${code})`;
  return failure('ContainerExit', what);
}

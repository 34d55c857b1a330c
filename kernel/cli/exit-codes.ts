// The one place where an engine error becomes a CLI exit code, as docker's
// CLI decides it: a bad command line is 125; a container whose own program
// cannot start in `run` or `exec` is 127 (missing) or 126 (not executable); anything else that
// stops `run` or `create` is 125, because docker reserves the program's own
// codes for the program, and so is a store Berth cannot use; every other
// command fails with 1.
import { BerthError, CommandStartError } from '../engine';
import { UsageError } from '../commands/flags';

const CREATES_CONTAINERS = new Set(['run', 'create']);
// Set on an error from starting the engine (an unusable store): Berth
// itself failed before any command ran, which docker answers with 125.
export const ENGINE_START = '(engine start)';
const RUNS_PROGRAMS = new Set(['run', 'exec']);

export function exitCodeFor(e: BerthError): number {
  if (e instanceof UsageError) return 125;
  if (e.kind === 'cancelled') return 130; // as a shell reports a command stopped by Ctrl-C
  if (e instanceof CommandStartError && e.command && RUNS_PROGRAMS.has(e.command)) return e.kind === 'not-found' ? 127 : 126;
  if (e.kind === 'internal' || e.command === ENGINE_START) return 125;
  return e.command && CREATES_CONTAINERS.has(e.command) ? 125 : 1;
}

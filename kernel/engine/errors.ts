// Errors a user can act on. The message says what went wrong and what to do;
// front ends print it without a stack trace. The kind says what sort of
// failure it is; each front end turns kinds into its own answer in one place
// (the CLI's exit codes in cli/exit-codes.ts, the kernel's enames in
// notebook/outcome.ts). The engine never picks an exit code.
export type ErrorKind =
  | 'not-found' // no such image, container, network, volume, file
  | 'conflict' // the thing exists but is in the wrong state (running, in use, taken)
  | 'invalid-argument' // the request itself is wrong
  | 'unavailable' // something Berth needs is not there or not answering (registry, shim, lock)
  | 'permission' // the user may not do this here
  | 'cancelled' // the user stopped it (an interrupted cell, Ctrl-C); nothing half-made was kept
  | 'internal'; // a Berth defect: never for something the user did

// The kind is given where the error is made: new BerthError(msg, 'conflict').
// Subclasses exist only where a front end or command dispatches on them.
export class BerthError extends Error {
  // The command the error came out of; set by the command registry so the
  // CLI can answer as docker does (run and create exit 125, others 1).
  command?: string;

  constructor(message: string, readonly kind: ErrorKind = 'invalid-argument') {
    super(message);
    this.name = 'BerthError';
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string) {
    super(message, 'not-found');
    this.name = 'NotFoundError';
  }
}

// The container's own program could not be started: its command is missing
// (kind not-found) or cannot be executed (kind permission). Docker answers
// these with 127 and 126, as a shell does.
export class CommandStartError extends BerthError {
  constructor(message: string, kind: 'not-found' | 'permission') {
    super(message, kind);
    this.name = 'CommandStartError';
  }
}

// A build step failed or the Dockerfile is wrong: the kernel names it BuildError.
export class BuildError extends BerthError {
  constructor(message: string, kind: ErrorKind = 'invalid-argument') {
    super(message, kind);
    this.name = 'BuildError';
  }
}

// The user stopped a long operation. Every one takes an AbortSignal and,
// once it fires, throws this after undoing what it had begun.
export class CancelledError extends BerthError {
  constructor(what: string) {
    super(`${what} was interrupted; nothing half-made was kept`, 'cancelled');
    this.name = 'CancelledError';
  }
}

// Throws CancelledError if the signal fired: called between the steps of a
// long operation, and where an aborted stream surfaces as another error.
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}

// The error a front end shows for what is not a BerthError: a defect.
export function asBerthError(e: unknown): BerthError {
  if (e instanceof BerthError) return e;
  const err = e as Error;
  const wrapped = new BerthError(`internal error: ${err?.message ?? String(e)}`, 'internal');
  if (err?.stack) wrapped.stack = err.stack;
  return wrapped;
}

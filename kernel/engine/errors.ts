// Errors a user can act on. The message says what went wrong and what to do;
// front ends print it without a stack trace. exitCode follows docker's CLI:
// 125 when Berth itself failed, 1 for a failed management command.
export class BerthError extends Error {
  constructor(message: string, readonly exitCode = 125) {
    super(message);
    this.name = 'BerthError';
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
    this.name = 'NotFoundError';
  }
}

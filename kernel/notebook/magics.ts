// The notebook's own magics: %record (keep a record of every run) and the
// cell magics %%run (the body is a script), %%file (the body is a file) and
// %%build (the body is the Dockerfile, given to `build -f -`).
import * as fs from 'fs';
import * as path from 'path';
import { buildFlags } from '../commands/build';
import { parseFlags } from '../commands/flags';
import { DEFAULT_RECORD_FILE } from '../engine';
import type { ExecuteContext, ExecuteOutcome } from '../jupyter/interpreter-api';
import { failure } from './outcome';

export class RecordMagic {
  // Set by %record on: every foreground run appends its record here.
  file: string | undefined;

  // %record on [FILE] | off | (no argument: where records go now)
  run(args: string[], ctx: ExecuteContext): ExecuteOutcome {
    if (args[0] === 'on' && args.length <= 2) {
      this.file = args[1] ?? DEFAULT_RECORD_FILE;
      ctx.stream('stdout', `Recording every run to ${this.file}; %records lists them, %records compare 1 last compares two\n`);
    } else if (args[0] === 'off' && args.length === 1) {
      if (this.file) ctx.stream('stdout', `Recording stopped; the records stay in ${this.file}\n`);
      this.file = undefined;
    } else if (args.length === 0) {
      ctx.stream('stdout', this.file ? `Recording every run to ${this.file}\n` : 'Recording is off; %record on [FILE] turns it on (or add --record FILE to one run)\n');
    } else {
      return failure('UsageError', 'write %record on [FILE], %record off, or %record to see where records go');
    }
    return { status: 'ok' };
  }
}

// What a cell magic asks for: a command line to run (with the body as its
// stdin where it has one), or an outcome already decided.
export type CellMagicPlan = { argv: string[]; stdin?: string } | { outcome: ExecuteOutcome };

// Throws UsageError for flags that do not parse, as the command itself would.
export function cellMagic(name: string, argv: string[], body: string, ctx: ExecuteContext): CellMagicPlan {
  switch (name) {
    case 'run':
      if (!argv.length) return { outcome: failure('UsageError', 'write %%run [OPTIONS] IMAGE on the first line, and the script below it') };
      return { argv: ['run', '--rm', ...argv, 'sh', '-c', body] };
    case 'file': {
      if (argv.length !== 1) return { outcome: failure('UsageError', 'write %%file PATH on the first line, and the file content below it') };
      const file = path.resolve(argv[0]);
      const existed = fs.existsSync(file);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, body.endsWith('\n') ? body : body + '\n');
      ctx.stream('stdout', `${existed ? 'Overwriting' : 'Writing'} ${argv[0]}\n`);
      return { outcome: { status: 'ok' } };
    }
    case 'build': {
      // %%build [OPTIONS] [CONTEXT]: the context defaults to the notebook's directory.
      const hasContext = parseFlags('build', buildFlags, argv, true).args.length > 0;
      return { argv: ['build', '-f', '-', ...argv, ...(hasContext ? [] : ['.'])], stdin: body };
    }
    default:
      return { outcome: failure('UsageError', `unknown cell magic %%${name}; use %%run, %%file or %%build`) };
  }
}

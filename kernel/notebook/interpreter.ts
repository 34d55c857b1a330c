// Berth's interpreter for the Jupyter kernel: cells of docker-CLI commands,
// run through the same command registry as the CLI, with container output
// streamed into the cell as it arrives. The protocol is kernel/jupyter's;
// this side knows cells, magics and how a command's end becomes a reply.
import { parseCell, isComplete } from '../commands/cell';
import { execute, helpFor, loadCommand, overview } from '../commands/registry';
import { BerthError, Engine } from '../engine';
import type { CompleteReply, ExecuteContext, ExecuteOutcome, Interpreter } from '../jupyter/interpreter-api';
import type { MimeBundle } from '../jupyter/messages';
import { cellIo, GRACE_MS, LineState } from './cell-io';
import { complete, inspect } from './completion';
import { cellMagic, RecordMagic } from './magics';
import { errorOutcome, exitOutcome, failure } from './outcome';

export class BerthInterpreter implements Interpreter {
  readonly implementation = 'berth';
  readonly implementationVersion = require('../../../package.json').version as string;
  readonly languageInfo = { name: 'berth', version: '1.0', mimetype: 'text/x-sh', file_extension: '.berth', codemirror_mode: 'shell', pygments_lexer: 'bash' };
  readonly banner = 'Berth: real containers in notebook cells. %help lists the commands.';

  private readonly record = new RecordMagic();

  constructor(private readonly engine = new Engine()) {}

  async execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
    const notice = this.engine.notice();
    if (notice) ctx.stream('stderr', `berth: ${notice}\n`);
    try {
      const cell = parseCell(code);
      if (cell.kind === 'cell-magic') {
        const plan = cellMagic(cell.name, cell.argv, cell.body, ctx);
        return 'outcome' in plan ? plan.outcome : await this.runLine(plan.argv, ctx, plan.stdin);
      }
      let last: ExecuteOutcome = { status: 'ok' };
      const payload: Array<Record<string, unknown>> = [];
      for (const [i, line] of cell.lines.entries()) {
        last = await this.runLine(line.argv, ctx);
        if (last.status !== 'ok') return last;
        payload.push(...(last.payload ?? []));
        // Only the last line's value is the cell's result; earlier ones print.
        if (last.result && i < cell.lines.length - 1) {
          ctx.stream('stdout', String(last.result['text/plain']) + '\n');
          last = { status: 'ok' };
        }
      }
      return last.status === 'ok' && payload.length ? { ...last, payload } : last;
    } catch (e) {
      if (e instanceof BerthError) return errorOutcome(e);
      throw e;
    }
  }

  private help(topic: string | undefined, ctx: ExecuteContext): ExecuteOutcome {
    const cmd = topic ? loadCommand(topic) : undefined;
    if (topic && !cmd) return failure('BerthError', `unknown command "${topic}"; %help lists the commands`);
    // A command's help opens in the pager, as IPython's `?` does.
    if (cmd) return { status: 'ok', payload: [{ source: 'page', data: { 'text/plain': helpFor(cmd).replace(/berth /g, '%') }, start: 0 }] };
    ctx.stream('stdout', overview().replace(/berth /g, '%'));
    return { status: 'ok' };
  }

  private async runLine(argv: string[], ctx: ExecuteContext, stdin?: string): Promise<ExecuteOutcome> {
    if (argv[0] === 'help') return this.help(argv[1], ctx);
    if (argv[0] === 'record') return this.record.run(argv.slice(1), ctx);
    const state: LineState = { interrupted: false };
    // An interrupt stops whatever the line is doing (a pull, a build) through
    // one AbortSignal; a foreground container takes the interrupt over
    // while it runs (cell-io.ts onSignal).
    const abort = new AbortController();
    const release = ctx.onInterrupt(() => abort.abort());
    let code: number;
    try {
      code = await execute(argv, { engine: this.engine, io: cellIo(ctx, state, this.record.file, stdin, abort.signal) });
    } finally {
      release();
    }
    if (state.interrupted) return failure('Interrupted', `the container was stopped by an interrupt (SIGINT, then SIGKILL after ${GRACE_MS / 1000} s); exit code ${code}`);
    if (code !== 0) return exitOutcome(argv[0], code, state.oomKilled === true);
    return state.value !== undefined ? { status: 'ok', result: { 'text/plain': state.value.replace(/\n$/, '') } } : { status: 'ok' };
  }

  complete(code: string, cursorPos: number): CompleteReply {
    return complete(this.engine, code, cursorPos);
  }

  inspect(code: string, cursorPos: number): MimeBundle | undefined {
    return inspect(code, cursorPos);
  }

  isComplete(code: string): { status: 'complete' | 'incomplete' | 'invalid'; indent?: string } {
    const status = isComplete(code);
    return status === 'incomplete' ? { status, indent: '' } : { status };
  }
}

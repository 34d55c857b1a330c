// Berth's interpreter for the Jupyter kernel: cells of docker-CLI commands,
// run through the same command registry as the CLI, with container output
// streamed into the cell as it arrives.
import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { CellSyntaxError, commandArgv, isComplete, parseCell, shellWords } from '../commands/cell';
import { commandNames, execute, helpFor, loadCommand, overview } from '../commands/registry';
import { Io } from '../commands/types';
import { parseFlags, UsageError } from '../commands/flags';
import { buildArgs, buildFlags, runBuild } from '../commands/build';
import { escapeHtml } from '../render/html';
import { Engine } from '../engine';
import { BerthError } from '../engine';
import { CompleteReply, ExecuteContext, ExecuteOutcome, Interpreter } from '../jupyter/interpreter-api';
import { MimeBundle } from '../jupyter/messages';
import { renderExperiment } from '../render/experiment';
import { DEFAULT_RECORD_FILE } from '../engine';

const GRACE_MS = 2000;

interface LineState {
  interrupted: boolean;
  oomKilled?: boolean;
  value?: string;
}

function failure(ename: string, evalue: string): ExecuteOutcome {
  return { status: 'error', ename, evalue, traceback: [`\x1b[0;31m${ename}\x1b[0m: ${evalue}`] };
}

function exitMeaning(code: number): string {
  if (code === 137) return 'killed (SIGKILL), e.g. out of memory or stopped';
  if (code === 143) return 'terminated (SIGTERM)';
  if (code === 130) return 'interrupted (SIGINT)';
  if (code === 127) return 'command not found';
  return 'the command failed';
}

export class BerthInterpreter implements Interpreter {
  readonly implementation = 'berth';
  readonly implementationVersion = require('../../../package.json').version as string;
  readonly languageInfo = { name: 'berth', version: '1.0', mimetype: 'text/x-sh', file_extension: '.berth', codemirror_mode: 'shell', pygments_lexer: 'bash' };
  readonly banner = 'Berth: real containers in notebook cells. %help lists the commands.';

  // Set by %record on: every foreground run appends its record here.
  private recordFile: string | undefined;

  constructor(private readonly engine = new Engine()) {}

  // %record on [FILE] | off | (no argument: where records go now)
  private recordMagic(args: string[], ctx: ExecuteContext): ExecuteOutcome {
    if (args[0] === 'on' && args.length <= 2) {
      this.recordFile = args[1] ?? DEFAULT_RECORD_FILE;
      ctx.stream('stdout', `Recording every run to ${this.recordFile}; %records lists them, %records compare 1 last compares two\n`);
    } else if (args[0] === 'off' && args.length === 1) {
      if (this.recordFile) ctx.stream('stdout', `Recording stopped; the records stay in ${this.recordFile}\n`);
      this.recordFile = undefined;
    } else if (args.length === 0) {
      ctx.stream('stdout', this.recordFile ? `Recording every run to ${this.recordFile}\n` : 'Recording is off; %record on [FILE] turns it on (or add --record FILE to one run)\n');
    } else {
      return failure('UsageError', 'write %record on [FILE], %record off, or %record to see where records go');
    }
    return { status: 'ok' };
  }

  private io(ctx: ExecuteContext, state: LineState): Io {
    const shown = new Set<string>();
    return {
      out: (t) => ctx.stream('stdout', t),
      recordTo: this.recordFile,
      experiment: (rec) => {
        state.oomKilled = rec.oomKilled;
        const r = renderExperiment(rec);
        ctx.display({ 'text/plain': r.text, 'text/html': r.html }, { metadata: { berth: 'experiment-record' } });
      },
      progress: (id, done, total, label) => {
        const pct = total > 0 ? Math.round((done / total) * 100) : 0;
        const html = `<div style="font-size:12px;color:#42526e">${escapeHtml(label)}</div><div style="width:320px;height:8px;background-color:#dfe1e6;border-radius:4px"><div style="width:${pct}%;height:8px;background-color:#2684ff;border-radius:4px"></div></div>`;
        const bundle = { 'text/plain': `[${'#'.repeat(Math.round(pct / 5)).padEnd(20, '.')}] ${pct}% ${label}`, 'text/html': html };
        if (shown.has(id)) return ctx.updateDisplay(id, bundle);
        shown.add(id);
        ctx.display(bundle, { displayId: id });
      },
      value: (t) => {
        state.value = (state.value ?? '') + t;
      },
      show: (r, displayId) => {
        const bundle = r.html ? { 'text/plain': r.text, 'text/html': r.html } : { 'text/plain': r.text };
        if (displayId && shown.has(displayId)) return ctx.updateDisplay(displayId, bundle);
        if (displayId) shown.add(displayId);
        ctx.display(bundle, { displayId });
      },
      err: (t) => ctx.stream('stderr', t),
      attach: (interactive) => ({ stdin: interactive ? 'pipe' : 'ignore', stdout: 'pipe', stderr: 'pipe' }),
      isTerminal: false,
      onSignal(forward) {
        return ctx.onInterrupt(() => {
          state.interrupted = true;
          forward('SIGINT');
          setTimeout(() => forward('SIGKILL'), GRACE_MS).unref();
        });
      },
      async pump(streams, interactive) {
        const drain = (s: Readable | null, name: 'stdout' | 'stderr') =>
          new Promise<void>((resolve) => {
            if (!s) return resolve();
            s.setEncoding('utf8');
            s.on('data', (d: string) => ctx.stream(name, d));
            s.on('end', resolve);
            s.on('close', resolve); // closed after the exit grace (commands/streams.ts)
            s.on('error', () => resolve());
          });
        let finished = false;
        const done = Promise.all([drain(streams.stdout, 'stdout'), drain(streams.stderr, 'stderr')]).then(() => {
          finished = true;
        });
        if (streams.stdin) {
          if (interactive && ctx.allowStdin) {
            // Each input_request answers one line; an empty reply ends stdin.
            void (async () => {
              try {
                // One line per input_request, until an empty answer or the
                // container is gone (a request already shown stays unanswered).
                while (!finished) {
                  const line = await ctx.input('', false);
                  if (line === '' || finished) break;
                  streams.stdin!.write(line + '\n');
                }
              } catch {
                /* front end gone */
              }
              streams.stdin!.end();
            })();
          } else {
            if (interactive) ctx.stream('stderr', 'berth: this front end does not allow stdin; the container gets an empty stdin\n');
            streams.stdin.end();
          }
        }
        await done;
      },
    };
  }

  async execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
    let cell;
    try {
      cell = parseCell(code);
    } catch (e) {
      if (e instanceof CellSyntaxError) return failure('BerthSyntaxError', e.message);
      throw e;
    }
    if (cell.kind === 'cell-magic') return this.cellMagic(cell.name, cell.argv, cell.body, ctx);
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
  }

  private async runLine(argv: string[], ctx: ExecuteContext): Promise<ExecuteOutcome> {
    if (argv[0] === 'help') {
      const cmd = argv[1] ? loadCommand(argv[1]) : undefined;
      if (argv[1] && !cmd) return failure('BerthError', `unknown command "${argv[1]}"; %help lists the commands`);
      if (cmd) {
        // A command's help opens in the pager, as IPython's `?` does.
        return { status: 'ok', payload: [{ source: 'page', data: { 'text/plain': helpFor(cmd).replace(/berth /g, '%') }, start: 0 }] };
      }
      ctx.stream('stdout', overview().replace(/berth /g, '%'));
      return { status: 'ok' };
    }
    if (argv[0] === 'record') return this.recordMagic(argv.slice(1), ctx);
    const state: LineState = { interrupted: false };
    try {
      const code = await execute(argv, { engine: this.engine, io: this.io(ctx, state) });
      if (state.interrupted) return failure('Interrupted', `the container was stopped by an interrupt (SIGINT, then SIGKILL after ${GRACE_MS / 1000} s); exit code ${code}`);
      if (code !== 0) {
        const meaning = state.oomKilled ? 'killed by the out-of-memory killer: raise -m or use less memory' : exitMeaning(code);
        const what = argv[0] === 'run' || argv[0] === 'exec' ? `the container exited with code ${code}: ${meaning}` : `%${argv[0]} failed (exit code ${code})`;
        return failure('ContainerExit', what);
      }
      return state.value !== undefined ? { status: 'ok', result: { 'text/plain': state.value.replace(/\n$/, '') } } : { status: 'ok' };
    } catch (e) {
      if (e instanceof BerthError) return failure(e instanceof UsageError ? 'UsageError' : 'BerthError', e.message);
      throw e;
    }
  }

  private async cellMagic(name: string, argv: string[], body: string, ctx: ExecuteContext): Promise<ExecuteOutcome> {
    switch (name) {
      case 'run': {
        // %%run [flags] IMAGE: the body is a shell script in a new container.
        if (!argv.length) return failure('UsageError', 'write %%run [OPTIONS] IMAGE on the first line, and the script below it');
        return this.runLine(['run', '--rm', ...argv, 'sh', '-c', body], ctx);
      }
      case 'file': {
        if (argv.length !== 1) return failure('UsageError', 'write %%file PATH on the first line, and the file content below it');
        const file = path.resolve(argv[0]);
        const existed = fs.existsSync(file);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, body.endsWith('\n') ? body : body + '\n');
        ctx.stream('stdout', `${existed ? 'Overwriting' : 'Writing'} ${argv[0]}\n`);
        return { status: 'ok' };
      }
      case 'build': {
        // %%build [OPTIONS] [CONTEXT]: the cell body is the Dockerfile.
        const state: LineState = { interrupted: false };
        try {
          const p = parseFlags('build', buildFlags, argv, true);
          await runBuild({ engine: this.engine, io: this.io(ctx, state) }, {
            context: p.args[0] ?? '.',
            dockerfileText: body,
            tags: p.flags.tag as string[],
            target: p.flags.target as string | undefined,
            noCache: p.flags['no-cache'] === true,
            buildArgs: buildArgs(p.flags['build-arg'] as string[]),
          }, p.flags.quiet === true);
          return { status: 'ok' };
        } catch (e) {
          if (e instanceof BerthError) return failure(e instanceof UsageError ? 'UsageError' : 'BuildError', e.message);
          throw e;
        }
      }
      default:
        return failure('UsageError', `unknown cell magic %%${name}; use %%run, %%file or %%build`);
    }
  }

  complete(code: string, cursorPos: number): CompleteReply {
    const before = code.slice(0, cursorPos);
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = before.slice(lineStart);
    const m = /(\S*)$/.exec(line)!;
    const token = m[1];
    const start = cursorPos - token.length;
    const words = line.trim().split(/\s+/);
    const atCommand = words.length <= 1;
    let candidates: string[];
    if (atCommand) {
      const prefix = token.startsWith('%%') ? '%%' : token.startsWith('%') ? '%' : '';
      candidates = (prefix === '%%' ? ['run', 'file', 'build'] : [...commandNames(), 'help', 'record']).map((n) => prefix + n);
    } else if (token.startsWith('-')) {
      let argv: string[] = [];
      try {
        argv = commandArgv(line) ?? [];
      } catch {
        /* unfinished quote */
      }
      const cmd = argv[0] ? loadCommand(argv[0]) : undefined;
      candidates = (cmd?.flags ?? []).flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]);
    } else {
      candidates = [
        ...this.engine.images.list().flatMap((i) => i.refs.map((r) => r.replace(/:latest$/, ''))),
        ...this.engine.containers.list(true).map((c) => c.record.Name),
      ];
    }
    const matches = [...new Set(candidates.filter((c) => c.startsWith(token)))].sort();
    return { matches, cursor_start: start, cursor_end: cursorPos };
  }

  inspect(code: string, cursorPos: number): MimeBundle | undefined {
    const line = code.slice(code.lastIndexOf('\n', cursorPos - 1) + 1).split('\n')[0];
    let argv: string[] = [];
    try {
      argv = shellWords(line.replace(/^\s*%%?/, ''));
    } catch {
      return undefined;
    }
    if (argv[0] === 'docker' || argv[0] === 'berth') argv = argv.slice(1);
    const cmd = argv[0] ? loadCommand(argv[0]) : undefined;
    if (!cmd) return undefined;
    return { 'text/plain': helpFor(cmd).replace(/berth /g, '%') };
  }

  isComplete(code: string): { status: 'complete' | 'incomplete' | 'invalid'; indent?: string } {
    const status = isComplete(code);
    return status === 'incomplete' ? { status, indent: '' } : { status };
  }
}

// The notebook's Io: what commands print becomes stream and display
// messages of the cell, results become the cell's value, containers are
// attached through pipes pumped into the cell, stdin comes from
// input_request, and an interrupt reaches the foreground container.
import { Readable } from 'stream';
import { Io } from '../commands/types';
import type { ExecuteContext } from '../jupyter/interpreter-api';
import { renderExperiment } from '../render/experiment';
import { progressBar } from '../render/progress';

export const GRACE_MS = 2000;

export interface LineState {
  interrupted: boolean;
  oomKilled?: boolean;
  value?: string;
}

// stdin: for `%%build` the cell body is the Dockerfile (`build -f -`).
export function cellIo(ctx: ExecuteContext, state: LineState, recordTo: string | undefined, stdin?: string, signal?: AbortSignal): Io {
  const shown = new Set<string>();
  const display = (bundle: Record<string, string>, displayId?: string) => {
    if (displayId && shown.has(displayId)) return ctx.updateDisplay(displayId, bundle);
    if (displayId) shown.add(displayId);
    ctx.display(bundle, { displayId });
  };
  return {
    out: (t) => ctx.stream('stdout', t),
    err: (t) => ctx.stream('stderr', t),
    recordTo,
    experiment: (rec) => {
      state.oomKilled = rec.oomKilled;
      const r = renderExperiment(rec);
      ctx.display({ 'text/plain': r.text, 'text/html': r.html }, { metadata: { berth: 'experiment-record' } });
    },
    progress: (id, done, total, label) => {
      const r = progressBar(done, total, label);
      display({ 'text/plain': r.text, 'text/html': r.html! }, id);
    },
    value: (t) => {
      state.value = (state.value ?? '') + t;
    },
    show: (r, displayId) => display(r.html ? { 'text/plain': r.text, 'text/html': r.html } : { 'text/plain': r.text }, displayId),
    attach: (interactive) => ({ stdin: interactive ? 'pipe' : 'ignore', stdout: 'pipe', stderr: 'pipe' }),
    isTerminal: false,
    masksSecrets: true,
    signal,
    env: process.env, // the kernel's, as Jupyter started it
    // No bytesOut: a cell cannot hold a tar archive, so save and export ask for -o.
    bytesIn: stdin === undefined ? undefined : () => Readable.from([Buffer.from(stdin)]),
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
          // One line per input_request, until an empty answer or the
          // container is gone (a request already shown stays unanswered).
          void (async () => {
            try {
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

// The one interface between the protocol core and what the kernel runs.
// The core knows nothing of containers; Berth's interpreter knows nothing of
// ZeroMQ.
import { MimeBundle } from './messages';

export interface ExecuteContext {
  stream(name: 'stdout' | 'stderr', text: string): void;
  display(data: MimeBundle, opts?: { displayId?: string; metadata?: Record<string, unknown> }): void;
  updateDisplay(displayId: string, data: MimeBundle): void;
  // Asks the front end for a line of input; rejects when it allows none.
  input(prompt: string, password: boolean): Promise<string>;
  readonly allowStdin: boolean;
  // Registers what an interrupt_request should do while this cell runs.
  onInterrupt(handler: () => void): () => void;
}

export type ExecuteOutcome =
  | { status: 'ok'; result?: MimeBundle; payload?: Array<Record<string, unknown>> }
  | { status: 'error'; ename: string; evalue: string; traceback: string[] };

export interface CompleteReply {
  matches: string[];
  cursor_start: number;
  cursor_end: number;
}

export interface Interpreter {
  implementation: string;
  implementationVersion: string;
  languageInfo: { name: string; version: string; mimetype: string; file_extension: string; codemirror_mode: string; pygments_lexer?: string };
  banner: string;
  execute(code: string, ctx: ExecuteContext): Promise<ExecuteOutcome>;
  complete(code: string, cursorPos: number): CompleteReply;
  inspect(code: string, cursorPos: number): MimeBundle | undefined;
  isComplete(code: string): { status: 'complete' | 'incomplete' | 'invalid' | 'unknown'; indent?: string };
  usage?(): Record<string, unknown>;
  shutdown?(): Promise<void>;
}

// What a command is and what it talks to. Front ends (the CLI now, the
// Jupyter kernel next) provide the Io; commands never print directly.
import type { Engine } from '../engine';
import type { AttachOptions } from '../engine/containers/types';
import type { FlagSpec, Parsed } from './flags';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  // How containers started in the foreground reach this front end.
  attach(interactive: boolean): AttachOptions;
  // Called with a function that forwards a signal to the foreground container.
  onSignal?(forward: (signal: string) => void): () => void;
  isTerminal: boolean;
}

export interface CommandContext {
  engine: Engine;
  io: Io;
}

export interface Command {
  name: string;
  usage: string; // after "berth "
  summary: string;
  flags: FlagSpec[];
  interspersed?: boolean; // false: flags end at the first positional (run, exec)
  minArgs?: number;
  maxArgs?: number;
  run(p: Parsed, ctx: CommandContext): Promise<number>;
}

// What a command is and what it talks to. Front ends (the CLI now, the
// Jupyter kernel) provide the Io; commands never touch process stdio.
import type { Engine } from '../engine';
import type { AttachOptions } from '../engine';
import type { FlagSpec, Parsed } from './flags';
import type { Readable, Writable } from 'stream';
import type { Rendered } from '../render/table';
import type { ExperimentRecord } from '../engine';

export interface Io {
  out(text: string): void;
  // A result with an HTML form (tables): the CLI prints its text, the kernel
  // sends both as one display_data bundle. With displayId the kernel keeps
  // refreshing the same output (live views).
  show(r: Rendered, displayId?: string): void;
  // A command's single value (an ID, an exit code, an inspect --format
  // line): the CLI prints it, the kernel makes the last one the cell's result.
  value?(text: string): void;
  // Front ends that keep experiment records (the kernel) get one per
  // foreground run; the CLI, like docker, shows none.
  experiment?(r: ExperimentRecord): void;
  // Long operations (builds) report progress; the kernel draws a bar it
  // refreshes in place, the CLI prints nothing extra.
  progress?(id: string, done: number, total: number, label: string): void;
  // Where this front end keeps experiment records when every run is
  // recorded (the kernel's %record on); --record FILE names one per run.
  recordTo?: string;
  err(text: string): void;
  // How containers started in the foreground reach this front end.
  attach(interactive: boolean): AttachOptions;
  // Called with a function that forwards a signal to the foreground container.
  onSignal?(forward: (signal: string) => void): () => void;
  isTerminal: boolean;
  // Fires when the user stops the command (an interrupted cell, Ctrl-C):
  // long operations take it down into the engine and stop, leaving nothing
  // half-made. One mechanism for every command, read when a command starts
  // something long.
  readonly signal?: AbortSignal;
  // Outputs that are saved and shared (a notebook's): secret env values
  // are shown as *** (engine/records/secret-env.ts).
  masksSecrets?: boolean;
  // The user's environment, read as docker's CLI reads its own: -e NAME,
  // --env-file lines without a value, --build-arg NAME, ~ in -v.
  env: NodeJS.ProcessEnv;
  // Where a command's bytes go when no file is named (save, export; a
  // recorded run's stdout): the CLI's stdout unless it is a terminal
  // (undefined then). A front end without it (a notebook) asks for -o FILE.
  bytesOut?(): NodeJS.WritableStream | undefined;
  // The bytes a user pipes in (load, import -, build -f -, login
  // --password-stdin). A front end without it asks for a file instead.
  bytesIn?(): NodeJS.ReadableStream;
  // Front ends that attach with 'pipe' consume the container's streams here;
  // the command waits for it so no output lands after the command ends.
  pump?(streams: { stdin: Writable | null; stdout: Readable | null; stderr: Readable | null }, interactive: boolean): Promise<void>;
}

export interface CommandContext {
  engine: Engine;
  io: Io;
  contextName?: string; // the global --context, for this call only
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

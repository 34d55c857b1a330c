// Typed instructions and stages, second of three steps. Each instruction
// kind checks its own flags and arguments here, once; the builder then
// dispatches on the kind and never re-reads the text. Arguments stay as
// written (quotes and $VARS included) because they are expanded at dispatch
// time, when the stage's ARG and ENV values are known.
import { DockerfileError, Heredoc, jsonArgs, KeyValue, nameValues, Node, parseDockerfile, quotedWords } from './parser';

export type { KeyValue } from './parser';

interface Base {
  line: number;
  original: string;
  escape: string;
}

export interface ArgDef {
  key: string;
  value: string | undefined; // the default as written
}

export type Instruction =
  | (Base & { kind: 'FROM'; image: string; stageName: string | undefined; platform: string | undefined })
  | (Base & { kind: 'RUN'; command: string[] | string; heredocs: Heredoc[]; mounts: string[]; network: string | undefined; security: string | undefined })
  | (Base & { kind: 'CMD' | 'ENTRYPOINT'; command: string[] | string })
  | (Base & { kind: 'SHELL'; shell: string[] })
  | (Base & { kind: 'COPY' | 'ADD'; args: string[] | string; heredocs: Heredoc[]; from: string | undefined; chown: string | undefined; chmod: string | undefined; link: boolean; exclude: string[]; checksum: string | undefined; keepGitDir: boolean })
  | (Base & { kind: 'ENV' | 'LABEL'; pairs: KeyValue[] })
  | (Base & { kind: 'ARG'; args: ArgDef[] })
  | (Base & { kind: 'WORKDIR'; path: string })
  | (Base & { kind: 'USER'; user: string })
  | (Base & { kind: 'EXPOSE'; ports: string[] })
  | (Base & { kind: 'VOLUME'; volumes: string[] | string })
  | (Base & { kind: 'STOPSIGNAL'; signal: string })
  | (Base & { kind: 'MAINTAINER'; maintainer: string })
  | (Base & { kind: 'HEALTHCHECK'; test: string[] | 'NONE'; interval?: string; timeout?: string; startPeriod?: string; startInterval?: string; retries?: string })
  | (Base & { kind: 'ONBUILD'; trigger: string });

export type Kind = Instruction['kind'];
export type Of<K extends Kind> = Extract<Instruction, { kind: K }>;

export interface Stage {
  name: string | undefined; // lower case, as BuildKit compares them
  index: number;
  from: Of<'FROM'>;
  body: Instruction[];
}

export interface Dockerfile {
  metaArgs: ArgDef[]; // ARGs before the first FROM
  stages: Stage[];
  escape: string;
  warnings: string[];
}

type FlagKind = 'string' | 'list' | 'bool';
const FLAGS: Partial<Record<string, Record<string, FlagKind>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'list', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'list' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

// Flags the grammar knows but Berth cannot honour are refused by name
// rather than ignored.
const UNSUPPORTED: Record<string, string> = {
  'COPY parents': 'COPY --parents is not supported by Berth; copy each directory with its own COPY',
  'ADD keep-git-dir': 'ADD --keep-git-dir is not supported by Berth: ADD of a git repository is not supported',
};

class Flags {
  private readonly values = new Map<string, string[]>();

  constructor(node: Node) {
    const allowed = FLAGS[node.cmd] ?? {};
    for (const word of node.flagWords) {
      const m = /^--([^=]*)(?:=([\s\S]*))?$/.exec(word);
      const name = m?.[1] ?? word;
      const kind = allowed[name];
      if (!m || !name || !kind) throw new DockerfileError(node.line, `unknown flag: ${word.split('=')[0]} (${node.cmd} takes ${Object.keys(allowed).map((f) => `--${f}`).join(', ') || 'no flags'})`);
      const unsupported = UNSUPPORTED[`${node.cmd} ${name}`];
      if (unsupported) throw new DockerfileError(node.line, unsupported);
      const value = m[2];
      if (kind === 'string' && value === undefined) throw new DockerfileError(node.line, `missing a value on flag: --${name}`);
      if (kind === 'bool' && value !== undefined && !/^(true|false)$/i.test(value)) throw new DockerfileError(node.line, `expecting boolean value for flag ${name}, not: ${value}`);
      if (kind !== 'list' && this.values.has(name)) throw new DockerfileError(node.line, `duplicate flag specified: --${name}`);
      this.values.set(name, [...(this.values.get(name) ?? []), value ?? 'true']);
    }
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  list(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  bool(name: string): boolean {
    return /^true$/i.test(this.values.get(name)?.[0] ?? 'false');
  }
}

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'ENV', 'LABEL', 'ARG', 'WORKDIR', 'USER', 'EXPOSE', 'VOLUME', 'STOPSIGNAL', 'MAINTAINER', 'HEALTHCHECK', 'ONBUILD']);

function requireArgs(node: Node): void {
  if (node.args === '' && !node.heredocs.length) throw new DockerfileError(node.line, `${node.cmd} requires at least one argument`);
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

export function toInstruction(node: Node, escape: string): Instruction {
  if (!KNOWN.has(node.cmd)) throw new DockerfileError(node.line, `unknown instruction: ${node.keyword}`);
  const flags = new Flags(node);
  const base: Base = { line: node.line, original: node.original, escape };
  // The parser has already read the JSON form (and refused a non-string array).
  const execOrShell = () => node.json ?? node.args;
  switch (node.cmd) {
    case 'FROM': {
      const words = node.args.split(/[\t\v\f\r ]+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && /^as$/i.test(words[1]))) {
        throw new DockerfileError(node.line, 'FROM requires either one or three arguments: FROM IMAGE [AS NAME]');
      }
      const stageName = words[2]?.toLowerCase();
      if (stageName !== undefined && !STAGE_NAME.test(stageName)) {
        throw new DockerfileError(node.line, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
      }
      return { ...base, kind: 'FROM', image: words[0], stageName, platform: flags.string('platform') };
    }
    case 'RUN':
      requireArgs(node);
      return { ...base, kind: 'RUN', command: execOrShell(), heredocs: node.heredocs, mounts: flags.list('mount'), network: flags.string('network'), security: flags.string('security') };
    case 'CMD':
    case 'ENTRYPOINT':
      return { ...base, kind: node.cmd, command: execOrShell() };
    case 'SHELL': {
      const json = node.json;
      if (!json || !json.length) throw new DockerfileError(node.line, 'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
      return { ...base, kind: 'SHELL', shell: json };
    }
    case 'COPY':
    case 'ADD': {
      requireArgs(node);
      const args = node.json ?? node.args;
      const count = Array.isArray(args) ? args.length : quotedWords(args, escape).length;
      if (count < (node.heredocs.length ? 1 : 2)) throw new DockerfileError(node.line, `${node.cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);
      return {
        ...base,
        kind: node.cmd,
        args,
        heredocs: node.heredocs,
        from: node.cmd === 'COPY' ? flags.string('from') : undefined,
        chown: flags.string('chown'),
        chmod: flags.string('chmod'),
        link: flags.bool('link'),
        exclude: flags.list('exclude'),
        checksum: node.cmd === 'ADD' ? flags.string('checksum') : undefined,
        keepGitDir: node.cmd === 'ADD' && flags.bool('keep-git-dir'),
      };
    }
    case 'ENV':
    case 'LABEL':
      return { ...base, kind: node.cmd, pairs: nameValues(node, escape) };
    case 'ARG': {
      const words = quotedWords(node.args, escape);
      if (!words.length) throw new DockerfileError(node.line, 'ARG requires at least one argument');
      return {
        ...base,
        kind: 'ARG',
        args: words.map((w) => {
          const eq = w.indexOf('=');
          if (eq === 0) throw new DockerfileError(node.line, 'ARG names can not be blank');
          return eq < 0 ? { key: w, value: undefined } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
        }),
      };
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      if (node.args === '') throw new DockerfileError(node.line, `${node.cmd} requires exactly one argument`);
      if (node.cmd === 'WORKDIR') return { ...base, kind: 'WORKDIR', path: node.args };
      if (node.cmd === 'USER') return { ...base, kind: 'USER', user: node.args };
      if (node.cmd === 'STOPSIGNAL') return { ...base, kind: 'STOPSIGNAL', signal: node.args };
      return { ...base, kind: 'MAINTAINER', maintainer: node.args };
    case 'EXPOSE':
      requireArgs(node);
      return { ...base, kind: 'EXPOSE', ports: node.args.split(/[\t\v\f\r ]+/).filter(Boolean) };
    case 'VOLUME':
      requireArgs(node);
      return { ...base, kind: 'VOLUME', volumes: node.json ?? node.args };
    case 'HEALTHCHECK': {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(node.args);
      const type = m?.[1].toUpperCase();
      const common = { interval: flags.string('interval'), timeout: flags.string('timeout'), startPeriod: flags.string('start-period'), startInterval: flags.string('start-interval'), retries: flags.string('retries') };
      if (type === 'NONE') {
        if (m![2].trim() || node.flagWords.length) throw new DockerfileError(node.line, 'HEALTHCHECK NONE takes no arguments');
        return { ...base, kind: 'HEALTHCHECK', test: 'NONE' };
      }
      if (type !== 'CMD' || !m![2].trim()) throw new DockerfileError(node.line, 'HEALTHCHECK takes [OPTIONS] CMD command, or NONE');
      const cmd = jsonArgs(m![2], node.line);
      return { ...base, kind: 'HEALTHCHECK', test: cmd ? ['CMD', ...cmd] : ['CMD-SHELL', m![2].trim()], ...common };
    }
    case 'ONBUILD': {
      requireArgs(node);
      const trigger = node.args;
      const word = trigger.split(/\s/)[0].toUpperCase();
      if (word === 'ONBUILD') throw new DockerfileError(node.line, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (word === 'FROM' || word === 'MAINTAINER') throw new DockerfileError(node.line, `${word} isn't allowed as an ONBUILD trigger`);
      // The trigger must itself be a valid instruction.
      const parsed = parseDockerfile(trigger);
      toInstruction(parsed.nodes[0], escape);
      return { ...base, kind: 'ONBUILD', trigger };
    }
    default:
      throw new DockerfileError(node.line, `unknown instruction: ${node.keyword}`);
  }
}

// The whole file: meta ARGs, then stages, each opened by FROM.
export function parseInstructions(text: string): Dockerfile {
  const parsed = parseDockerfile(text);
  const metaArgs: ArgDef[] = [];
  const stages: Stage[] = [];
  for (const node of parsed.nodes) {
    const ins = toInstruction(node, parsed.escape);
    if (ins.kind === 'FROM') {
      if (ins.stageName && stages.some((s) => s.name === ins.stageName)) throw new DockerfileError(ins.line, `duplicate stage name "${ins.stageName}"`);
      stages.push({ name: ins.stageName, index: stages.length, from: ins, body: [] });
    } else if (!stages.length) {
      if (ins.kind !== 'ARG') throw new DockerfileError(ins.line, `${ins.kind} before FROM: only ARG may come before the first FROM`);
      metaArgs.push(...ins.args);
    } else {
      stages[stages.length - 1].body.push(ins);
    }
  }
  if (!stages.length) throw new DockerfileError(1, 'no FROM instruction: a Dockerfile starts with FROM IMAGE (or FROM scratch)');
  return { metaArgs, stages, escape: parsed.escape, warnings: parsed.warnings };
}

// One instruction on its own (ONBUILD triggers, --change lines).
export function parseOne(text: string, escape = '\\'): Instruction {
  const parsed = parseDockerfile(text);
  if (parsed.nodes.length !== 1) throw new DockerfileError(1, `expected one instruction, got ${parsed.nodes.length}`);
  return toInstruction(parsed.nodes[0], escape);
}

// The instructions that change only an image's config (CMD, ENV, LABEL...),
// in one place for Dockerfile builds and for --change on import and commit.
import * as path from 'path';
import { BerthError } from '../errors';
import { parseSignal } from '../containers/signals';
import { ContainerDefaults } from '../images/types';
import { Instruction, parseOne } from './instructions';
import { DockerfileError } from './parser';
import { ShellLexer } from './shell-lexer';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];


export function envMap(cfg: ContainerDefaults): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of cfg.Env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

function setEnv(cfg: ContainerDefaults, key: string, value: string): void {
  cfg.Env = [...(cfg.Env ?? []).filter((e) => e.split('=')[0] !== key), `${key}=${value}`];
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

// A Go duration ("1m30s", "500ms", "0"), as HEALTHCHECK's flags take them:
// 0 means the default; anything else must be at least 1ms.
function durationNs(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (text === '0') return 0;
  const parts = text.match(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g);
  if (!parts || parts.join('') !== text) throw new BerthError(`invalid --${flag}=${text}: use a duration such as 30s, 1m30s or 500ms`);
  const ns = Math.round(parts.reduce((sum, p) => {
    const m = /^(.+?)(ns|us|µs|ms|s|m|h)$/.exec(p)!;
    return sum + Number(m[1]) * UNIT_NS[m[2]];
  }, 0));
  if (ns !== 0 && ns < 1e6) throw new BerthError(`--${flag}=${text} cannot be less than 1ms`);
  return ns;
}

function retries(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new BerthError(`invalid --retries=${text}: give a whole number`);
  if (Number(text) < 0) throw new BerthError(`--retries cannot be negative (${text})`);
  return Number(text);
}

// EXPOSE PORT[-END][/PROTO]: each port of a range, as docker records them.
function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  const [from, to] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [0, 0];
  if (!m || from < 1 || to > 65535 || to < from) throw new BerthError(`invalid port "${spec}" in EXPOSE: use PORT, PORT/tcp, PORT/udp or a range such as 8000-8010`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: to - from + 1 }, (_, i) => `${from + i}/${proto}`);
}

// Applies one config-only instruction to image.config (and image.author).
// cmdSet says whether CMD was set earlier in this stage: Docker drops a CMD
// inherited from the base image when ENTRYPOINT is set, not one set here.
// Returns the new cmdSet. vars holds the stage's ARG values; ENV values
// from the config are added, and win, as in docker.
export function applyMetadata(ins: Instruction, image: { config: ContainerDefaults; author?: string }, vars: Map<string, string>, cmdSet: boolean): boolean {
  try {
    return applyOne(ins, image, vars, cmdSet);
  } catch (e) {
    // Every error names the line it comes from.
    if (e instanceof BerthError && !(e instanceof DockerfileError)) throw new DockerfileError(ins.line, e.message);
    throw e;
  }
}

function applyOne(ins: Instruction, image: { config: ContainerDefaults; author?: string }, vars: Map<string, string>, cmdSet: boolean): boolean {
  const cfg = image.config;
  const lex = new ShellLexer({ escape: ins.escape });
  const env = () => new Map([...vars, ...envMap(cfg)]);
  const word = (text: string) => {
    try {
      return lex.word(text, env());
    } catch (e) {
      throw new DockerfileError(ins.line, (e as Error).message);
    }
  };
  const words = (text: string) => {
    try {
      return lex.words(text, env());
    } catch (e) {
      throw new DockerfileError(ins.line, (e as Error).message);
    }
  };
  const cmdForm = (command: string[] | string) => (Array.isArray(command) ? command : [...(cfg.Shell ?? DEFAULT_SHELL), command]);
  switch (ins.kind) {
    case 'CMD':
      cfg.Cmd = cmdForm(ins.command);
      return true;
    case 'ENTRYPOINT':
      cfg.Entrypoint = cmdForm(ins.command);
      if (!cmdSet) cfg.Cmd = [];
      return cmdSet;
    case 'ENV': {
      // Every pair is expanded with the values from before this instruction.
      const pairs = ins.pairs.map(({ key, value }) => [word(key), word(value)]);
      for (const [k, v] of pairs) setEnv(cfg, k, v);
      return cmdSet;
    }
    case 'LABEL':
      for (const { key, value } of ins.pairs) cfg.Labels = { ...(cfg.Labels ?? {}), [word(key)]: word(value) };
      return cmdSet;
    case 'WORKDIR':
      cfg.WorkingDir = path.posix.resolve(cfg.WorkingDir || '/', word(ins.path));
      return cmdSet;
    case 'USER':
      cfg.User = word(ins.user);
      return cmdSet;
    case 'EXPOSE':
      for (const p of ins.ports.flatMap((x) => words(x)).flatMap((x) => exposedPorts(x))) cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), [p]: {} };
      return cmdSet;
    case 'VOLUME':
      for (const v of Array.isArray(ins.volumes) ? ins.volumes.map(word) : words(ins.volumes)) {
        if (!v.trim()) throw new DockerfileError(ins.line, 'VOLUME specified can not be an empty string');
        cfg.Volumes = { ...(cfg.Volumes ?? {}), [v]: {} };
      }
      return cmdSet;
    case 'MAINTAINER':
      image.author = ins.maintainer;
      return cmdSet;
    case 'SHELL':
      cfg.Shell = ins.shell;
      return cmdSet;
    case 'STOPSIGNAL':
      cfg.StopSignal = word(ins.signal);
      parseSignal(cfg.StopSignal); // a signal that does not exist fails the build, not the first stop
      return cmdSet;
    case 'HEALTHCHECK':
      if (ins.test === 'NONE') {
        cfg.Healthcheck = { Test: ['NONE'] };
        return cmdSet;
      }
      cfg.Healthcheck = {
        Test: ins.test,
        Interval: durationNs(ins.interval, 'interval'),
        Timeout: durationNs(ins.timeout, 'timeout'),
        StartPeriod: durationNs(ins.startPeriod, 'start-period'),
        StartInterval: durationNs(ins.startInterval, 'start-interval'),
        Retries: retries(ins.retries),
      };
      return cmdSet;
    case 'ONBUILD':
      cfg.OnBuild = [...(cfg.OnBuild ?? []), ins.trigger];
      return cmdSet;
    default:
      throw new DockerfileError(ins.line, `${ins.kind} does not change the image config`);
  }
}

const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

// --change lines for import and commit: Dockerfile instructions that only
// change the config. An ENTRYPOINT here keeps the existing CMD.
export function applyChanges(defaults: ContainerDefaults, changes: string[]): void {
  for (const line of changes) {
    let ins: Instruction | undefined;
    try {
      ins = parseOne(line);
    } catch (e) {
      throw new BerthError(`invalid --change "${line}": ${(e as Error).message.replace(/^Dockerfile:\d+: /, '')}; give an instruction such as CMD ["sh"]`);
    }
    if (!ins || !CHANGE_INSTRUCTIONS.includes(ins.kind)) {
      throw new BerthError(`${ins?.kind ?? line} is not supported by --change; use ${CHANGE_INSTRUCTIONS.join(', ')}`);
    }
    applyMetadata(ins, { config: defaults }, new Map(), true);
  }
}

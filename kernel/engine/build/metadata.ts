// The instructions that change only an image's config (CMD, ENV, LABEL...),
// in one place for Dockerfile builds and for --change on import and commit.
import * as path from 'path';
import { BerthError } from '../errors';
import { ContainerDefaults } from '../images/types';
import { DockerfileError, expand, Instruction, keyValues, parseDockerfile } from './parser';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export const METADATA_INSTRUCTIONS = new Set([
  'CMD', 'ENTRYPOINT', 'ENV', 'WORKDIR', 'USER', 'EXPOSE', 'VOLUME', 'LABEL', 'MAINTAINER', 'SHELL', 'STOPSIGNAL', 'HEALTHCHECK', 'ONBUILD',
]);

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

function durationNs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new BerthError(`invalid duration "${text}": use e.g. 30s, 1m, 500ms`);
  return Math.round(Number(m[1]) * { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[m[2] as 'ms']);
}

// Applies one config-only instruction to image.config (and image.author).
// cmdSet says whether CMD was set earlier in this stage: Docker drops a CMD
// inherited from the base image when ENTRYPOINT is set, not one set here.
// Returns the new cmdSet.
export function applyMetadata(ins: Instruction, image: { config: ContainerDefaults; author?: string }, vars: Map<string, string>, cmdSet: boolean): boolean {
  const cfg = image.config;
  const cmdForm = () => ins.json ?? [...(cfg.Shell ?? DEFAULT_SHELL), ins.rest];
  switch (ins.cmd) {
    case 'CMD':
      cfg.Cmd = cmdForm();
      return true;
    case 'ENTRYPOINT':
      cfg.Entrypoint = cmdForm();
      if (!cmdSet) cfg.Cmd = [];
      return cmdSet;
    case 'ENV': {
      const pairs = /^[^\s=]+=/.test(ins.rest) ? keyValues(ins.rest, ins.line) : [[ins.rest.split(/\s+/)[0], ins.rest.replace(/^\S+\s*/, '')] as [string, string]];
      for (const [k, v] of pairs) setEnv(cfg, k, expand(v, new Map([...vars, ...envMap(cfg)])));
      return cmdSet;
    }
    case 'WORKDIR':
      cfg.WorkingDir = path.posix.resolve(cfg.WorkingDir || '/', expand(ins.rest, vars));
      return cmdSet;
    case 'USER':
      cfg.User = expand(ins.rest, vars);
      return cmdSet;
    case 'EXPOSE':
      for (const p of expand(ins.rest, vars).split(/\s+/)) cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), [p.includes('/') ? p : `${p}/tcp`]: {} };
      return cmdSet;
    case 'VOLUME':
      for (const v of ins.json ?? expand(ins.rest, vars).split(/\s+/)) cfg.Volumes = { ...(cfg.Volumes ?? {}), [v]: {} };
      return cmdSet;
    case 'LABEL':
      for (const [k, v] of keyValues(ins.rest, ins.line)) cfg.Labels = { ...(cfg.Labels ?? {}), [k]: expand(v, vars) };
      return cmdSet;
    case 'MAINTAINER':
      image.author = ins.rest;
      return cmdSet;
    case 'SHELL':
      if (!ins.json) throw new DockerfileError(ins.line, 'SHELL requires the exec (JSON) form, e.g. SHELL ["/bin/bash", "-c"]');
      cfg.Shell = ins.json;
      return cmdSet;
    case 'STOPSIGNAL':
      cfg.StopSignal = expand(ins.rest, vars);
      return cmdSet;
    case 'HEALTHCHECK': {
      if (/^NONE$/i.test(ins.rest)) {
        cfg.Healthcheck = { Test: ['NONE'] };
        return cmdSet;
      }
      const m = /^CMD\s+([\s\S]+)$/i.exec(ins.rest);
      if (!m) throw new DockerfileError(ins.line, 'HEALTHCHECK takes [OPTIONS] CMD command, or NONE');
      let json: string[] | undefined;
      try {
        json = m[1].trim().startsWith('[') ? (JSON.parse(m[1]) as string[]) : undefined;
      } catch {
        json = undefined;
      }
      cfg.Healthcheck = {
        Test: json ? ['CMD', ...json] : ['CMD-SHELL', m[1].trim()],
        Interval: durationNs(ins.flags.interval),
        Timeout: durationNs(ins.flags.timeout),
        StartPeriod: durationNs(ins.flags['start-period']),
        Retries: ins.flags.retries ? Number(ins.flags.retries) : undefined,
      };
      return cmdSet;
    }
    case 'ONBUILD': {
      const trigger = ins.rest.trim();
      if (/^(ONBUILD|FROM|MAINTAINER)\b/i.test(trigger)) throw new DockerfileError(ins.line, `${trigger.split(/\s/)[0]} isn't allowed as an ONBUILD trigger`);
      cfg.OnBuild = [...(cfg.OnBuild ?? []), trigger];
      return cmdSet;
    }
    default:
      throw new DockerfileError(ins.line, `${ins.cmd} does not change the image config`);
  }
}

const CHANGE_INSTRUCTIONS = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

// --change lines for import and commit: Dockerfile instructions that only
// change the config. An ENTRYPOINT here keeps the existing CMD.
export function applyChanges(defaults: ContainerDefaults, changes: string[]): void {
  for (const line of changes) {
    let ins: Instruction;
    try {
      [, ins] = parseDockerfile(`FROM scratch\n${line}`);
    } catch (e) {
      throw new BerthError(`invalid --change "${line}": ${(e as Error).message.replace(/^Dockerfile:\d+: /, '')}; give an instruction such as CMD ["sh"]`);
    }
    if (!ins || !CHANGE_INSTRUCTIONS.includes(ins.cmd)) {
      throw new BerthError(`${ins?.cmd ?? line} is not supported by --change; use ${CHANGE_INSTRUCTIONS.join(', ')}`);
    }
    applyMetadata(ins, { config: defaults }, new Map(), true);
  }
}

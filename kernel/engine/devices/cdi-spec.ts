// One CDI spec file (JSON or YAML, CDI 0.3.0 to 1.1.0) read and checked
// strictly: an unknown field, a wrong type or a version this code does not
// know is an error naming the file and the field, never something skipped
// (a field we do not understand could be one that keeps the host safe).
import * as fs from 'fs';
import { parseDocument } from 'yaml';
import { BerthError } from '../errors';
import { checkDeviceName, checkKind } from './cdi-names';
import { HookStage } from './types';

export const CDI_VERSIONS = ['0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '1.0.0', '1.1.0'];

export interface CdiDeviceNode {
  path: string;
  hostPath?: string;
  type?: 'c' | 'b' | 'u' | 'p';
  major?: number;
  minor?: number;
  fileMode?: number;
  permissions?: string;
  uid?: number;
  gid?: number;
}

export interface CdiMount {
  hostPath: string;
  containerPath: string;
  options: string[];
  type?: string;
}

export interface CdiHook {
  hookName: HookStage;
  path: string;
  args: string[];
  env: string[];
  timeout?: number;
}

export interface CdiEdits {
  env: string[];
  deviceNodes: CdiDeviceNode[];
  mounts: CdiMount[];
  hooks: CdiHook[];
  additionalGids: number[];
}

export interface CdiDevice {
  name: string;
  annotations: Record<string, string>;
  containerEdits: CdiEdits;
}

export interface CdiSpec {
  file: string;
  cdiVersion: string;
  kind: string;
  annotations: Record<string, string>;
  devices: CdiDevice[];
  containerEdits: CdiEdits;
}

type Obj = Record<string, unknown>;

class Checker {
  constructor(readonly file: string) {}

  fail(where: string, what: string): never {
    throw new BerthError(`CDI spec ${this.file}: ${where ? `${where}: ` : ''}${what}; fix or remove the file`);
  }

  object(v: unknown, where: string, allowed: string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'expected a mapping');
    for (const k of Object.keys(v as Obj)) {
      if (!allowed.includes(k)) this.fail(where, `unknown field "${k}" (known: ${allowed.join(', ')})`);
    }
    return v as Obj;
  }

  string(v: unknown, where: string, required = false): string | undefined {
    if (v === undefined || v === null) {
      if (required) this.fail(where, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') this.fail(where, 'expected a string');
    if (required && !v) this.fail(where, 'must not be empty');
    return v;
  }

  int(v: unknown, where: string, min = 0): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 0xffffffff) this.fail(where, `expected a whole number${min >= 0 ? ' of 0 or more' : ''}`);
    return v;
  }

  list<T>(v: unknown, where: string, each: (x: unknown, at: string) => T): T[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(where, 'expected a list');
    return v.map((x, i) => each(x, `${where}[${i}]`));
  }

  strings(v: unknown, where: string): string[] {
    return this.list(v, where, (x, at) => this.string(x, at, true)!);
  }

  annotations(v: unknown, where: string): Record<string, string> {
    if (v === undefined || v === null) return {};
    const o = this.object(v, where, Object.keys(v as Obj));
    for (const [k, x] of Object.entries(o)) this.string(x, `${where}.${k}`, false);
    return o as Record<string, string>;
  }

  edits(v: unknown, where: string): CdiEdits {
    if (v === undefined || v === null) return { env: [], deviceNodes: [], mounts: [], hooks: [], additionalGids: [] };
    const o = this.object(v, where, ['env', 'deviceNodes', 'mounts', 'hooks', 'additionalGids', 'intelRdt', 'netDevices']);
    // Known to CDI, but Berth cannot apply them: refusing beats running without.
    if (o.intelRdt !== undefined) this.fail(`${where}.intelRdt`, 'Intel RDT (cache and memory bandwidth allocation) is not supported by Berth');
    if (o.netDevices !== undefined) this.fail(`${where}.netDevices`, 'moving host network devices into a container is not supported by Berth');
    const env = this.strings(o.env, `${where}.env`);
    env.forEach((e, i) => {
      if (!/^[^=]+=/.test(e)) this.fail(`${where}.env[${i}]`, `"${e}" is not KEY=VALUE`);
    });
    return {
      env,
      deviceNodes: this.list(o.deviceNodes, `${where}.deviceNodes`, (x, at) => this.node(x, at)),
      mounts: this.list(o.mounts, `${where}.mounts`, (x, at) => this.mount(x, at)),
      hooks: this.list(o.hooks, `${where}.hooks`, (x, at) => this.hook(x, at)),
      additionalGids: this.list(o.additionalGids, `${where}.additionalGids`, (x, at) => this.int(x, at)!),
    };
  }

  absolute(p: string | undefined, where: string): void {
    if (p !== undefined && !p.startsWith('/')) this.fail(where, `"${p}" is not an absolute path`);
  }

  node(v: unknown, where: string): CdiDeviceNode {
    const o = this.object(v, where, ['path', 'hostPath', 'type', 'major', 'minor', 'fileMode', 'permissions', 'uid', 'gid']);
    const n: CdiDeviceNode = { path: this.string(o.path, `${where}.path`, true)!, hostPath: this.string(o.hostPath, `${where}.hostPath`) };
    this.absolute(n.path, `${where}.path`);
    this.absolute(n.hostPath, `${where}.hostPath`);
    const type = this.string(o.type, `${where}.type`);
    if (type !== undefined && !['c', 'b', 'u', 'p'].includes(type)) this.fail(`${where}.type`, `"${type}" is not a device type (b, c, u or p)`);
    n.type = type as CdiDeviceNode['type'];
    n.major = this.int(o.major, `${where}.major`);
    n.minor = this.int(o.minor, `${where}.minor`);
    n.fileMode = this.int(o.fileMode, `${where}.fileMode`);
    n.uid = this.int(o.uid, `${where}.uid`);
    n.gid = this.int(o.gid, `${where}.gid`);
    n.permissions = this.string(o.permissions, `${where}.permissions`);
    if (n.permissions !== undefined && !/^(?!.*(.).*\1)[rwm]{1,3}$/.test(n.permissions)) this.fail(`${where}.permissions`, `"${n.permissions}" is not a subset of rwm`);
    return n;
  }

  mount(v: unknown, where: string): CdiMount {
    const o = this.object(v, where, ['hostPath', 'containerPath', 'options', 'type']);
    const m: CdiMount = {
      hostPath: this.string(o.hostPath, `${where}.hostPath`, true)!,
      containerPath: this.string(o.containerPath, `${where}.containerPath`, true)!,
      options: this.strings(o.options, `${where}.options`),
      type: this.string(o.type, `${where}.type`),
    };
    this.absolute(m.containerPath, `${where}.containerPath`);
    return m;
  }

  hook(v: unknown, where: string): CdiHook {
    const o = this.object(v, where, ['hookName', 'path', 'args', 'env', 'timeout']);
    const name = this.string(o.hookName, `${where}.hookName`, true)!;
    const stages = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
    if (!stages.includes(name)) this.fail(`${where}.hookName`, `"${name}" is not a hook (${stages.join(', ')})`);
    const h: CdiHook = {
      // prestart is the deprecated name of the same point as createRuntime.
      hookName: (name === 'prestart' ? 'createRuntime' : name) as HookStage,
      path: this.string(o.path, `${where}.path`, true)!,
      args: this.strings(o.args, `${where}.args`),
      env: this.strings(o.env, `${where}.env`),
      timeout: this.int(o.timeout, `${where}.timeout`),
    };
    this.absolute(h.path, `${where}.path`);
    if (h.timeout === 0) this.fail(`${where}.timeout`, 'must be more than 0 seconds (leave it out for none)');
    return h;
  }
}

// Major.minor.patch compared numerically.
function newer(a: string, b: string): boolean {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
}

export function parseSpec(file: string, text: string): CdiSpec {
  const c = new Checker(file);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    c.fail(at, `not valid YAML or JSON (${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')})`);
  }
  const raw = doc.toJS() as unknown;
  const o = c.object(raw, '', ['cdiVersion', 'kind', 'annotations', 'devices', 'containerEdits']);
  const version = c.string(o.cdiVersion, 'cdiVersion', true)!;
  if (!/^\d+\.\d+\.\d+$/.test(version)) c.fail('cdiVersion', `"${version}" is not a version (e.g. 1.0.0)`);
  if (!CDI_VERSIONS.includes(version)) {
    const latest = CDI_VERSIONS[CDI_VERSIONS.length - 1];
    c.fail('cdiVersion', newer(version, latest)
      ? `version ${version} is newer than this Berth supports (up to ${latest}): update Berth, or generate the spec for an older CDI version`
      : `version ${version} is not a CDI version (${CDI_VERSIONS.join(', ')})`);
  }
  const kind = c.string(o.kind, 'kind', true)!;
  checkKind(kind, `CDI spec ${file}`);
  if (!Array.isArray(o.devices) || o.devices.length === 0) c.fail('devices', 'a spec needs at least one device');
  const names = new Set<string>();
  const devices = c.list(o.devices, 'devices', (x, at) => {
    const d = c.object(x, at, ['name', 'annotations', 'containerEdits']);
    const name = c.string(d.name, `${at}.name`, true)!;
    checkDeviceName(name, `CDI spec ${file}: ${at}`);
    if (names.has(name)) c.fail(`${at}.name`, `device "${name}" is defined twice`);
    names.add(name);
    const edits = c.edits(d.containerEdits, `${at}.containerEdits`);
    if (!edits.env.length && !edits.deviceNodes.length && !edits.mounts.length && !edits.hooks.length && !edits.additionalGids.length) {
      c.fail(`${at}.containerEdits`, `device "${name}" changes nothing in the container`);
    }
    return { name, annotations: c.annotations(d.annotations, `${at}.annotations`), containerEdits: edits };
  });
  return { file, cdiVersion: version, kind, annotations: c.annotations(o.annotations, 'annotations'), devices, containerEdits: c.edits(o.containerEdits, 'containerEdits') };
}

export function loadSpec(file: string): CdiSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new BerthError(`CDI spec ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e}); fix its permissions or remove it`, 'unavailable');
  }
  return parseSpec(file, text);
}

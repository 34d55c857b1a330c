// Mirrors, in the spirit of containers' registries.conf, as YAML in
// Berth's config directory (registries.yaml), then /etc/berth:
//
//   registries:
//     - location: docker.io
//       mirrors:
//         - location: mirror.lab:5000
//           insecure: true        # plain HTTP to the mirror
//     - location: registry.lab:5000
//       insecure: true
//
// A mirror is tried before its registry; images keep the registry's name.
// The file is read strictly: a key Berth does not know is an error, since a
// setting skipped in silence could be the one that matters.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError } from '../errors';
import { configDir } from '../store/config-dir';

export interface Endpoint {
  location: string; // HOST[:PORT]
  insecure: boolean;
}

interface RegistryEntry extends Endpoint {
  mirrors: Endpoint[];
}

export function registriesFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  return [path.join(configDir(env), 'registries.yaml'), '/etc/berth/registries.yaml'];
}

// docker.io is also known by its API and index hosts.
function sameRegistry(a: string, b: string): boolean {
  const hub = (h: string) => (['docker.io', 'registry-1.docker.io', 'index.docker.io'].includes(h) ? 'docker.io' : h);
  return hub(a) === hub(b);
}

function bad(file: string, what: string): never {
  throw new BerthError(`${file}: ${what}; see the README's "Registries" section for the form`);
}

function endpoint(file: string, v: unknown, where: string): Endpoint {
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad(file, `${where} must be a mapping with a location`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['location', 'insecure', 'mirrors'].includes(k)) bad(file, `${where} has an unknown key "${k}" (known: location, insecure${where.includes('mirrors') ? '' : ', mirrors'})`);
  if (typeof o.location !== 'string' || !/^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\])(:\d+)?$/.test(o.location)) bad(file, `${where}.location must be HOST[:PORT]`);
  if (o.insecure !== undefined && typeof o.insecure !== 'boolean') bad(file, `${where}.insecure must be true or false`);
  return { location: o.location, insecure: o.insecure === true };
}

function readFile(file: string): RegistryEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const doc = parseDocument(text);
  if (doc.errors.length) bad(file, doc.errors[0].message.split('\n')[0]);
  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) return [];
  if (typeof root !== 'object' || Array.isArray(root)) bad(file, 'the file must be a mapping with "registries"');
  for (const k of Object.keys(root as object)) if (k !== 'registries') bad(file, `unknown key "${k}" (known: registries)`);
  const list = (root as { registries?: unknown }).registries ?? [];
  if (!Array.isArray(list)) bad(file, '"registries" must be a list');
  return list.map((r, i) => {
    const where = `registries[${i}]`;
    const e = endpoint(file, r, where);
    const mirrors = (r as { mirrors?: unknown }).mirrors ?? [];
    if (!Array.isArray(mirrors)) bad(file, `${where}.mirrors must be a list`);
    return { ...e, mirrors: mirrors.map((m, j) => endpoint(file, m, `${where}.mirrors[${j}]`)) };
  });
}

// The user's entry for a registry wins over /etc/berth's.
function entryFor(registry: string, env: NodeJS.ProcessEnv): RegistryEntry | undefined {
  for (const f of registriesFiles(env)) {
    const e = readFile(f).find((r) => sameRegistry(r.location, registry));
    if (e) return e;
  }
  return undefined;
}

// Where to pull a registry's images from, in order: its mirrors, then itself.
export function pullEndpoints(registry: string, env: NodeJS.ProcessEnv = process.env): Array<Endpoint & { mirror: boolean }> {
  const e = entryFor(registry, env);
  return [...(e?.mirrors ?? []).map((m) => ({ ...m, mirror: true })), { location: registry, insecure: e?.insecure ?? false, mirror: false }];
}

// Whether registries.yaml marks a registry or mirror as plain HTTP.
export function configuredInsecure(host: string, env: NodeJS.ProcessEnv = process.env): boolean {
  for (const f of registriesFiles(env)) {
    for (const r of readFile(f)) {
      if (sameRegistry(r.location, host)) return r.insecure;
      const m = r.mirrors.find((x) => x.location === host);
      if (m) return m.insecure;
    }
  }
  return false;
}

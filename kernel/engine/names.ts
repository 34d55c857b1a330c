// One rule for the names users give containers, volumes, networks,
// contexts and cluster jobs, checked wherever a path is built from one
// (every store, every backend): a letter or digit first, then letters,
// digits, "_", "." and "-" (contexts also "+", as docker's), so that no
// name can be "..", hold a "/" or climb out of its directory.
import { BerthError } from './errors';

export type NameKind = 'container' | 'volume' | 'network' | 'context';

const RULE: Record<NameKind, RegExp> = {
  container: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, // docker: two characters at least
  volume: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
  network: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
  context: /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/,
};
const MAX = 255; // one path component

export function validName(kind: NameKind, name: string): boolean {
  return name.length <= MAX && RULE[kind].test(name);
}

const ALLOWED: Record<NameKind, string> = {
  container: '[a-zA-Z0-9][a-zA-Z0-9_.-]',
  volume: '[a-zA-Z0-9][a-zA-Z0-9_.-] (at least 2 characters)',
  network: '[a-zA-Z0-9][a-zA-Z0-9_.-]',
  context: '[a-zA-Z0-9][a-zA-Z0-9_.+-]',
};

// The name, or a usage error in docker's words.
export function checkName(kind: NameKind, name: string): string {
  if (validName(kind, name)) return name;
  if (kind === 'container') throw new BerthError(`Invalid container name (${name}), only ${ALLOWED.container} are allowed`);
  if (kind === 'volume') throw new BerthError(`"${name}" includes invalid characters for a local volume name, only "${ALLOWED.volume}" are allowed`);
  throw new BerthError(`invalid ${kind} name "${name}": only ${ALLOWED[kind]} are allowed`);
}

// Image references as docker normalises them (distribution/reference's
// grammar): [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST]. The first component is a
// domain when it has a dot or a port, is "localhost", is an IPv6 literal
// in brackets, or has an upper-case letter; otherwise the image is on
// docker.io, and a one-component path there is under library/. The store
// knows an image by its familiar name ("ubuntu", "team/app",
// "localhost:5000/app"), so "docker.io/library/ubuntu", "library/ubuntu"
// and "ubuntu" are one image.
import { BerthError } from '../errors';

export interface ImageRef {
  domain: string; // "docker.io", "localhost:5000", "[::1]:5000"
  path: string; // "library/ubuntu", "team/app"
  repository: string; // the familiar name: "ubuntu", "localhost:5000/team/app"
  tag: string; // "latest" when none is given
  explicitTag: boolean;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainName = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*';
const ipv6 = '\\[[a-fA-F0-9:]+\\]';
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const pathRe = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const domainRe = new RegExp(`^${domain}$`);
const tagRe = new RegExp(`^${tag}$`);
const digestRe = new RegExp(`^${digest}$`);
const NAME_MAX = 255;

const invalid = (text: string, why = '') => new BerthError(`invalid reference format${why}: "${text}"`);

// Splits NAME[:TAG][@DIGEST] without mistaking a registry port for a tag.
function splitTagDigest(text: string): { name: string; tag?: string; digest?: string } {
  let rest = text;
  let dg: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    dg = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tg: string | undefined;
  if (colon > slash) {
    tg = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag: tg, digest: dg };
}

function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  const first = i < 0 ? '' : name.slice(0, i);
  const isDomain = i >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first.toLowerCase() !== first);
  let d = isDomain ? first : DEFAULT_DOMAIN;
  let p = isDomain ? name.slice(i + 1) : name;
  if (d === LEGACY_DOMAIN) d = DEFAULT_DOMAIN;
  if (d === DEFAULT_DOMAIN && !p.includes('/')) p = `library/${p}`;
  return { domain: d, path: p };
}

export function familiarName(d: string, p: string): string {
  if (d !== DEFAULT_DOMAIN) return `${d}/${p}`;
  const rest = p.startsWith('library/') ? p.slice('library/'.length) : p;
  return rest.includes('/') ? p : rest;
}

export function parseReference(text: string): ImageRef {
  if (!text) throw invalid(text, ': repository name must have at least one component');
  if (/^[a-f0-9]{64}$/.test(text)) throw new BerthError(`invalid repository name (${text}), cannot specify 64-byte hexadecimal strings`);
  const parts = splitTagDigest(text);
  const { domain: d, path: p } = splitDomain(parts.name);
  if (p.toLowerCase() !== p) throw invalid(text, `: repository name (${p}) must be lowercase`);
  if (d !== DEFAULT_DOMAIN || parts.name.includes('/')) {
    if (!domainRe.test(d)) throw invalid(text);
  }
  if (!pathRe.test(p)) throw invalid(text);
  const full = parts.name.length;
  if (full > NAME_MAX) throw new BerthError(`invalid reference format: repository name must not be more than ${NAME_MAX} characters: "${text.slice(0, 40)}..."`);
  if (parts.tag !== undefined && !tagRe.test(parts.tag)) throw invalid(text);
  if (parts.digest !== undefined) {
    if (!digestRe.test(parts.digest)) throw invalid(text);
    if (parts.digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(parts.digest)) throw new BerthError(`invalid reference format: invalid checksum digest length in "${text}"`);
  }
  return { domain: d, path: p, repository: familiarName(d, p), tag: parts.tag ?? 'latest', explicitTag: parts.tag !== undefined, digest: parts.digest };
}

// The store's key for an image name: its familiar name and tag.
export function formatReference(ref: ImageRef): string {
  return `${ref.repository}:${ref.tag}`;
}

// HTTP for registries, token services and ADD <url>, on undici with its
// agents: connections are reused across a pull's requests, and the proxy
// the environment names is used as docker (Go's net/http) uses it:
// HTTPS_PROXY for https, HTTP_PROXY for http, upper case before lower,
// NO_PROXY's hosts, domains, IPs, CIDRs and ports bypassing it, and never a
// proxy for localhost or a loopback address.
import * as net from 'net';
import type { Dispatcher } from 'undici';
import type { TlsSettings } from './certs';

// Loaded on the first request, not with the module: a cached build never pays for it.
const undici = (): typeof import('undici') => require('undici') as typeof import('undici');

function envAny(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const n of names) if (env[n]) return env[n]!;
  return '';
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

// An IP in a CIDR, v4 or v6, with node's BlockList doing the arithmetic.
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const family = net.isIPv4(base) ? 'ipv4' : net.isIPv6(base) ? 'ipv6' : undefined;
  if (!family || !/^\d+$/.test(bits) || net.isIP(ip) !== net.isIP(base)) return false;
  const list = new net.BlockList();
  list.addSubnet(base, Number(bits), family);
  return list.check(ip, family);
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return net.isIPv6(host) && (host === '::1' || /^::ffff:127\./i.test(host));
}

// NO_PROXY as Go reads it: "*" for all; "a.com" matches a.com and its
// subdomains, ".a.com" (or "*.a.com") subdomains only; "host:port" only
// that port; IPs and CIDRs by address.
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || defaultPort(url.protocol);
  if (isLoopback(host)) return true;
  for (let entry of noProxy.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (net.isIP(host) && inCidr(host, entry)) return true;
      continue;
    }
    // A port only after "]" or a single ":" (a bare IPv6 address has many).
    let want = '';
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const single = /^([^:]+):(\d+)$/.exec(entry);
    if (bracketed) [entry, want] = [bracketed[1], bracketed[2] ?? ''];
    else if (single) [entry, want] = [single[1], single[2]];
    if (want && want !== port) continue;
    if (net.isIP(entry)) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.') ? host.endsWith(entry) : host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

// The proxy for a URL, or undefined to go direct.
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const proxy = url.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : envAny(env, 'HTTP_PROXY', 'http_proxy');
  if (!proxy || bypassesProxy(url, envAny(env, 'NO_PROXY', 'no_proxy'))) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

const dispatchers = new Map<string, Dispatcher>();

// One dispatcher per proxy and per registry's TLS settings, kept for the
// process, so a pull's requests share their connections.
function dispatcherFor(url: URL, env: NodeJS.ProcessEnv, t?: TlsSettings): Dispatcher {
  const proxy = proxyFor(url, env);
  const key = `${proxy ?? ''}|${t ? `${t.dir ?? ''}|${t.verify}` : ''}`;
  let d = dispatchers.get(key);
  if (!d) {
    const options = t ? { ...(t.ca ? { ca: t.ca } : {}), ...(t.cert ? { cert: t.cert, key: t.key } : {}), rejectUnauthorized: t.verify } : undefined;
    const u = undici();
    d = proxy ? new u.ProxyAgent({ uri: proxy, ...(options ? { requestTls: options } : {}) }) : new u.Agent(options ? { connect: options } : {});
    dispatchers.set(key, d);
  }
  return d;
}

// What failed underneath fetch's "fetch failed": the socket's or TLS's code.
export function causeOf(e: unknown): { code?: string; message: string } {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return { code: c?.code, message: c?.message ?? (e as Error).message };
}

// fetch through the dispatcher the URL calls for. A proxy that cannot be
// reached or refuses says so, since the user may not know one is set.
export async function httpFetch(input: string | URL, init: RequestInit = {}, env: NodeJS.ProcessEnv = process.env, t?: TlsSettings): Promise<Response> {
  const url = new URL(String(input));
  const proxy = proxyFor(url, env);
  try {
    return (await undici().fetch(url, { ...(init as object), dispatcher: dispatcherFor(url, env, url.protocol === 'https:' ? t : undefined) } as never)) as unknown as Response;
  } catch (e) {
    if (proxy) {
      const err = new Error(`through the proxy ${redact(proxy)} (from ${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'}): ${causeOf(e).message}; check the proxy, or add the host to NO_PROXY`);
      (err as { cause?: unknown }).cause = (e as { cause?: unknown }).cause;
      throw err;
    }
    throw e;
  }
}

// A proxy URL as it may be shown: without its password.
function redact(proxy: string): string {
  try {
    const u = new URL(proxy);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return proxy;
  }
}

// The most Berth reads of a manifest, an index or a config, as containerd:
// a registry or mirror that sends more is broken or hostile, and a kernel
// holding it would take the user's notebook down.
export const MAX_MANIFEST_BYTES = 4 << 20;
// Token answers and error bodies are a few hundred bytes.
export const MAX_SMALL_BODY_BYTES = 64 << 10;

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

// Reads a response body whole, but never more than limit bytes: past it
// the transfer is cancelled and BodyTooLarge thrown, with nothing kept.
export async function readBounded(r: Response, limit: number): Promise<Buffer> {
  const declared = Number(r.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await r.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!r.body) return Buffer.alloc(0);
  const reader = r.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}

// Drops a body nobody needs without reading it.
export async function discard(r: Response): Promise<void> {
  await r.body?.cancel().catch(() => undefined);
}

export function mib(n: number): string {
  return n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`;
}

// An OCI distribution client on undici (see http.ts: connection reuse and
// the environment's proxy). It answers 401
// challenges itself: Basic with stored credentials, or the Bearer token flow
// (realm, service, scope; token or access_token; kept until it expires).
import { BerthError, CancelledError } from '../errors';
import { Credentials } from './credentials';
import { registryCerts, tlsAdvice, TlsSettings } from './certs';
import { BodyTooLarge, causeOf, discard, httpFetch, MAX_SMALL_BODY_BYTES, mib, proxyFor, readBounded } from './http';
import { configuredInsecure } from './mirrors';
import { scheme } from './names';

export class RegistryError extends BerthError {}

interface Token {
  value: string;
  expires: number;
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  const params: Record<string, string> = {};
  if (!m) return { scheme: '', params };
  const re = /(\w+)="([^"]*)"/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]))) params[p[1]] = p[2];
  return { scheme: m[1].toLowerCase(), params };
}

const HUB = new Set(['registry-1.docker.io', 'docker.io', 'index.docker.io']);

// 429: when to try again, the limit if the registry says it (Docker Hub's
// "RateLimit-Limit: 100;w=21600"), and for Docker Hub what raises it.
export function rateLimited(registry: string, r: Pick<Response, 'headers'>, now = Date.now()): RegistryError {
  const parts = [`${registry} refused: too many requests (HTTP 429)`];
  const limit = /^(\d+)(?:;w=(\d+))?/.exec(r.headers.get('ratelimit-limit') ?? '');
  if (limit) parts.push(`the limit is ${limit[1]} requests${limit[2] ? ` per ${Number(limit[2]) >= 3600 ? `${Number(limit[2]) / 3600} hours` : `${limit[2]} seconds`}` : ''}`);
  const retry = r.headers.get('retry-after');
  const at = retry === null ? NaN : /^\d+$/.test(retry) ? now + Number(retry) * 1000 : Date.parse(retry);
  if (Number.isFinite(at)) parts.push(`try again after ${new Date(at).toISOString().replace(/\.\d+Z$/, 'Z')}`);
  if (HUB.has(registry)) parts.push('Docker Hub limits pulls by address: berth login docker.io raises the limit, or pull through your lab\'s mirror');
  return new RegistryError(parts.join('; '), 'unavailable');
}

// "repository:team/app:pull,push" -> "pull, push access to team/app".
export function denied(registry: string, scope: string, status: number, creds: Credentials | undefined): RegistryError {
  const m = /^repository:(.+):([a-z,*]+)$/.exec(scope);
  const what = m ? `${m[2].split(',').join(', ')} access to ${m[1]}` : scope;
  const who = creds ? `the account "${creds.username}" has no ${what}` : `${what} needs a login`;
  const todo = creds ? 'check the name, and the account\'s rights there' : `check the name, and berth login ${registry} if it is private`;
  return new RegistryError(`${registry} denied ${what} (HTTP ${status}): ${who}; ${todo}`, 'permission');
}

export class RegistryClient {
  private tokens = new Map<string, Token>();
  private basic = false;

  private readonly tls: TlsSettings | undefined;
  readonly base: string;

  // tlsVerify false: --tls-verify=false, the user's explicit way out.
  // insecure: plain HTTP, as registries.yaml may say of a registry or mirror.
  constructor(readonly registry: string, private readonly creds: Credentials | undefined, private readonly env: NodeJS.ProcessEnv = process.env, opts: { tlsVerify?: boolean; insecure?: boolean } = {}) {
    // A registry with certificates (certs.d) is spoken to over TLS with
    // them, loopback too; otherwise docker's rule (scheme()).
    const certs = registryCerts(registry, env);
    this.tls = certs || opts.tlsVerify === false ? { ...(certs ?? {}), verify: opts.tlsVerify !== false } : undefined;
    const insecure = opts.insecure ?? configuredInsecure(registry, env);
    this.base = `${certs ? 'https' : insecure ? 'http' : scheme(registry, env)}://${registry}`;
    // BERTH_OFFLINE=1 (the test suite sets it): loopback registries only, or
    // one reached through a proxy on loopback (Berth's traffic stays on this
    // machine), refused before any connection is attempted.
    const host = registry.replace(/:\d+$/, '');
    const loopback = (h: string) => h === 'localhost' || h === '[::1]' || /^127\./.test(h);
    const proxy = proxyFor(new URL(this.base), env);
    if (env.BERTH_OFFLINE === '1' && !loopback(host) && !(proxy && loopback(new URL(proxy).hostname))) {
      throw new RegistryError(`cannot reach registry ${registry}: only loopback registries are allowed while BERTH_OFFLINE=1`, 'unavailable');
    }
  }


  // fetch's own "fetch failed" says nothing: the cause does.
  private why(e: unknown): string {
    const c = causeOf(e);
    return (e as Error).message.startsWith('through the proxy') ? (e as Error).message : c.code && !c.message.includes(c.code) ? `${c.message} (${c.code})` : c.message;
  }

  private authHeader(scope: string): string | undefined {
    const t = this.tokens.get(scope);
    if (t && t.expires > Date.now()) return `Bearer ${t.value}`;
    if (this.basic && this.creds) return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
    return undefined;
  }

  private async authenticate(challenge: string, scope: string): Promise<void> {
    const c = parseChallenge(challenge);
    if (c.scheme === 'basic') {
      if (!this.creds) throw new RegistryError(`${this.registry} asks for a login; run \`berth login ${this.registry}\``, 'permission');
      this.basic = true;
      return;
    }
    if (c.scheme !== 'bearer' || !c.params.realm) throw new RegistryError(`${this.registry} asked for an authentication Berth does not know: ${challenge}`);
    const url = new URL(c.params.realm);
    if (c.params.service) url.searchParams.set('service', c.params.service);
    const wanted = scope || c.params.scope;
    if (wanted) url.searchParams.set('scope', wanted);
    const headers: Record<string, string> = {};
    if (this.creds) headers.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
    let r: Response;
    try {
      r = await httpFetch(url, { headers }, this.env, this.tls);
    } catch (e) {
      throw new RegistryError(`cannot reach the token service ${url.origin}: ${this.why(e)}`, 'unavailable');
    }
    if (r.status === 429) throw rateLimited(this.registry, r);
    if (!r.ok) throw new RegistryError(`the token service of ${this.registry} refused: HTTP ${r.status}${r.status === 401 ? '; check `berth login`' : ''}`, 'unavailable');
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse((await readBounded(r, MAX_SMALL_BODY_BYTES)).toString('utf8')) as typeof body;
    } catch (e) {
      if (e instanceof BodyTooLarge) throw new RegistryError(`the token service of ${this.registry} sent more than ${mib(e.limit)}, the most Berth reads for a token; refusing it`, 'unavailable');
      throw new RegistryError(`the token service of ${this.registry} answered with something that is not a token (${(e as Error).message})`, 'unavailable');
    }
    const value = body.token ?? body.access_token;
    if (!value) throw new RegistryError(`the token service of ${this.registry} answered without a token`, 'unavailable');
    this.tokens.set(scope, { value, expires: Date.now() + Math.max(10, (body.expires_in ?? 60) - 5) * 1000 });
  }

  // One request, authenticating on a 401 and trying once more.
  // Every request of this client stops when it fires (a push the user stopped).
  signal?: AbortSignal;

  async request(method: string, path: string, opts: { scope: string; headers?: Record<string, string>; body?: Buffer | NodeJS.ReadableStream; absolute?: boolean; redirect?: RequestRedirect; signal?: AbortSignal } = { scope: '' }): Promise<Response> {
    opts = { ...opts, signal: opts.signal ?? this.signal };
    const url = opts.absolute ? path : `${this.base}${path}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const auth = this.authHeader(opts.scope);
      if (auth) headers.authorization = auth;
      let r: Response;
      try {
        r = await httpFetch(url, { method, headers, body: opts.body as BodyInit | undefined, redirect: opts.redirect ?? 'follow', duplex: 'half', signal: opts.signal } as RequestInit, this.env, this.tls);
      } catch (e) {
        if (opts.signal?.aborted) throw new CancelledError(`the request to ${this.registry}`);
        const advice = tlsAdvice(this.registry, causeOf(e).code, this.env, this.base.startsWith('https:') ? this.tls ?? { verify: true } : undefined);
        throw new RegistryError(`cannot reach registry ${this.registry}: ${advice ?? `${this.why(e)}; is it running, and is the name right?`}`, advice ? 'permission' : 'unavailable');
      }
      if (r.status === 429) throw rateLimited(this.registry, r);
      // Denied after any login there was: say what was asked for and by whom.
      // (Without a scope, as for login's /v2/, the caller words it.)
      if ((r.status === 403 || (r.status === 401 && attempt === 1)) && opts.scope) throw denied(this.registry, opts.scope, r.status, this.creds);
      if (r.status !== 401 || attempt === 1) return r;
      const challenge = r.headers.get('www-authenticate');
      await discard(r);
      if (!challenge) return r;
      await this.authenticate(challenge, opts.scope);
      if (opts.body && typeof (opts.body as NodeJS.ReadableStream).pipe === 'function') {
        throw new RegistryError('the registry asked to authenticate in the middle of an upload; run `berth login` first');
      }
    }
    throw new RegistryError('unreachable');
  }
}

// A manifest, index or config body, never more than the limit.
export async function readRegistryBody(r: Response, registry: string, what: string, limit: number): Promise<Buffer> {
  try {
    return await readBounded(r, limit);
  } catch (e) {
    if (e instanceof BodyTooLarge) throw new RegistryError(`${registry} sent more than ${mib(limit)} for ${what}, the most Berth reads for one (as containerd); refusing it: the registry or a mirror in front of it is broken or hostile`, 'unavailable');
    throw new RegistryError(`${registry}: reading ${what} failed: ${(e as Error).message}`, 'unavailable');
  }
}

// Registry credentials as docker keeps them in ~/.docker/config.json, so
// docker, podman and skopeo read what `berth login` writes and the other
// way round:
// - "credHelpers": {"host": "NAME"} sends that registry's credentials to
//   the program docker-credential-NAME;
// - "credsStore": "NAME" sends every other registry's there;
// - without either, "auths": {"host": {"auth": base64("user:password")}}.
// A helper speaks docker's protocol: `get` reads the server on stdin and
// prints {"ServerURL","Username","Secret"}; `store` reads that JSON; `erase`
// reads the server.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BerthError } from '../errors';
import { writeFileAtomic } from '../store/files';

export interface Credentials {
  username: string;
  password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

function read(env?: NodeJS.ProcessEnv): DockerConfig {
  try {
    return JSON.parse(fs.readFileSync(configFile(env), 'utf8')) as DockerConfig;
  } catch {
    return {};
  }
}

function write(cfg: DockerConfig, env?: NodeJS.ProcessEnv): string {
  const file = configFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // A new 0600 file put in place by rename: one that was 0644 before (made
  // by another tool) does not stay readable by others with a password in it.
  // A config.json that is a link (dotfiles) is written where it leads, as docker does.
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch {
    /* not there yet */
  }
  writeFileAtomic(target, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
  return file;
}

// docker keys Docker Hub as its v1 URL; other registries by host[:port].
function key(registry: string): string {
  return registry === 'docker.io' || registry === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : registry;
}

// The helper for a registry, if config.json names one.
function helperFor(registry: string, cfg: DockerConfig): { name: string; from: string } | undefined {
  const host = key(registry) === registry ? registry : 'docker.io';
  const specific = cfg.credHelpers?.[host] ?? cfg.credHelpers?.[key(registry)];
  if (specific) return { name: specific, from: `credHelpers["${host}"]` };
  if (cfg.credsStore) return { name: cfg.credsStore, from: 'credsStore' };
  return undefined;
}

const NOT_FOUND = /credentials not found/i;

function callHelper(h: { name: string; from: string }, verb: 'get' | 'store' | 'erase', input: string, env?: NodeJS.ProcessEnv): { ok: boolean; out: string } {
  const program = `docker-credential-${h.name}`;
  const r = spawnSync(program, [verb], { input, encoding: 'utf8', env: env ?? process.env, timeout: 60000 });
  const where = `(${h.from} in ${configFile(env)})`;
  if (r.error) {
    const why = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is not installed (not on PATH)' : `could not run: ${r.error.message}`;
    throw new BerthError(`the credential helper ${program} ${where} ${why}: install it, or take it out of that file`, 'unavailable');
  }
  const out = `${r.stdout ?? ''}`.trim();
  if (r.status !== 0 && !(verb !== 'store' && NOT_FOUND.test(out))) {
    const said = (out || `${r.stderr ?? ''}`.trim() || `exit status ${r.status}`).split('\n')[0];
    throw new BerthError(`the credential helper ${program} ${where} failed to ${verb} the credentials of ${input.startsWith('{') ? 'the registry' : input}: ${said}`, 'unavailable');
  }
  return { ok: r.status === 0, out };
}

export function lookup(registry: string, env?: NodeJS.ProcessEnv): Credentials | undefined {
  const cfg = read(env);
  const h = helperFor(registry, cfg);
  if (h) {
    const r = callHelper(h, 'get', key(registry), env);
    if (!r.ok) return undefined;
    let got: { Username?: string; Secret?: string };
    try {
      got = JSON.parse(r.out) as typeof got;
    } catch {
      throw new BerthError(`the credential helper docker-credential-${h.name} answered something that is not docker's JSON for ${registry}: ${r.out.slice(0, 80)}`, 'unavailable');
    }
    return got.Secret ? { username: got.Username ?? '', password: got.Secret } : undefined;
  }
  const entry = cfg.auths?.[key(registry)];
  if (!entry?.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { username: text.slice(0, i), password: text.slice(i + 1) };
}

// Where the credentials went: the helper, or the file.
export function store(registry: string, c: Credentials, env?: NodeJS.ProcessEnv): string {
  const cfg = read(env);
  const h = helperFor(registry, cfg);
  if (h) {
    callHelper(h, 'store', JSON.stringify({ ServerURL: key(registry), Username: c.username, Secret: c.password }), env);
    // As docker: the file only notes that there is a login, with no secret.
    cfg.auths = { ...(cfg.auths ?? {}), [key(registry)]: {} };
    write(cfg, env);
    return `the credential helper docker-credential-${h.name}`;
  }
  cfg.auths = { ...(cfg.auths ?? {}), [key(registry)]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  return write(cfg, env);
}

export function remove(registry: string, env?: NodeJS.ProcessEnv): boolean {
  const cfg = read(env);
  const h = helperFor(registry, cfg);
  let removed = false;
  if (h) removed = callHelper(h, 'erase', key(registry), env).ok;
  if (cfg.auths?.[key(registry)]) {
    delete cfg.auths[key(registry)];
    write(cfg, env);
    removed = true;
  }
  return removed;
}

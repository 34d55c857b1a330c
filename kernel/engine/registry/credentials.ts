// Registry credentials in docker's ~/.docker/config.json form
// ({"auths": {"host": {"auth": base64("user:password")}}}), so docker and
// skopeo read what `berth login` writes and the other way round.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Credentials {
  username: string;
  password: string;
}

function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

function read(env?: NodeJS.ProcessEnv): { auths?: Record<string, { auth?: string }> } & Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(configFile(env), 'utf8'));
  } catch {
    return {};
  }
}

// docker keys Docker Hub as its v1 URL; other registries by host[:port].
function key(registry: string): string {
  return registry === 'docker.io' || registry === 'registry-1.docker.io' ? 'https://index.docker.io/v1/' : registry;
}

export function lookup(registry: string, env?: NodeJS.ProcessEnv): Credentials | undefined {
  const entry = read(env).auths?.[key(registry)];
  if (!entry?.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { username: text.slice(0, i), password: text.slice(i + 1) };
}

export function store(registry: string, c: Credentials, env?: NodeJS.ProcessEnv): string {
  const cfg = read(env);
  cfg.auths = { ...(cfg.auths ?? {}), [key(registry)]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  const file = configFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  return file;
}

export function remove(registry: string, env?: NodeJS.ProcessEnv): boolean {
  const cfg = read(env);
  if (!cfg.auths?.[key(registry)]) return false;
  delete cfg.auths[key(registry)];
  fs.writeFileSync(configFile(env), JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  return true;
}

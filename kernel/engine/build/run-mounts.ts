// RUN --mount: cache, bind, tmpfs and secret mounts for one build step, as
// BuildKit has them. What is mounted never becomes part of the layer: the
// mount points a step had to create are removed from its upper dir after.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { BerthError } from '../errors';
import type { MountSpec } from '../containers/types';
import type { ImageStore } from '../images/store';
import { BuildContext } from './context';
import { copyEntry } from './copy';
import { layersView } from './layers-view';
import { RootView } from '../store/in-root';
import { native } from '../native';
import { DockerfileError } from './parser';

export interface SecretSource {
  id: string;
  src?: string; // a file on this machine
  value?: string; // or the value itself (--secret id=NAME,env=VAR, read by the front end)
}

export interface MountRequest {
  type: 'cache' | 'bind' | 'tmpfs' | 'secret';
  target: string;
  source: string | undefined;
  from: string | undefined;
  id: string | undefined;
  readonly: boolean;
  required: boolean;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  size: string | undefined;
  sharing: 'shared' | 'private' | 'locked';
}

const KEYS = new Set(['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'id', 'ro', 'readonly', 'rw', 'readwrite', 'required', 'mode', 'uid', 'gid', 'size', 'sharing', 'env']);

// One --mount=... value: comma-separated key=value fields.
export function parseMount(spec: string, line: number): MountRequest {
  const fields = new Map<string, string>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    if (!KEYS.has(key)) throw new DockerfileError(line, `unexpected key '${key}' in '${part}' of --mount=${spec}`);
    fields.set(key, eq < 0 ? 'true' : part.slice(eq + 1));
  }
  const type = (fields.get('type') ?? 'bind') as MountRequest['type'];
  if (!['cache', 'bind', 'tmpfs', 'secret'].includes(type)) {
    throw new DockerfileError(line, `unsupported mount type "${type}" in --mount=${spec}: use cache, bind, tmpfs or secret (ssh is not supported by Berth)`);
  }
  if (fields.has('env')) throw new DockerfileError(line, `--mount=type=secret,env=... is not supported by Berth; mount the secret as a file and read it in the command`);
  const id = fields.get('id');
  let target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  if (!target && type === 'secret') {
    if (!id) throw new DockerfileError(line, `a secret mount needs id=NAME (given to build --secret id=NAME,src=FILE): --mount=${spec}`);
    target = `/run/secrets/${id}`;
  }
  if (!target) throw new DockerfileError(line, `--mount=${spec} needs target=PATH`);
  const bool = (k: string) => fields.has(k) && !/^false$/i.test(fields.get(k)!);
  const num = (k: string, base = 10) => {
    const v = fields.get(k);
    if (v === undefined) return undefined;
    const n = parseInt(v, base);
    if (!Number.isInteger(n) || n < 0 || !(base === 8 ? /^[0-7]+$/ : /^\d+$/).test(v)) throw new DockerfileError(line, `invalid ${k}=${v} in --mount=${spec}`);
    return n;
  };
  // Options that mean nothing for a type are refused, not ignored.
  const allowed: Record<MountRequest['type'], string[]> = {
    cache: ['id', 'sharing', 'mode', 'uid', 'gid', 'ro', 'readonly', 'rw', 'readwrite'],
    bind: ['source', 'src', 'from', 'ro', 'readonly', 'rw', 'readwrite'],
    tmpfs: ['size', 'ro', 'readonly', 'rw', 'readwrite'],
    secret: ['id', 'required', 'mode', 'uid', 'gid'],
  };
  for (const k of fields.keys()) {
    if (['type', 'target', 'dst', 'destination'].includes(k) || allowed[type].includes(k)) continue;
    const why = type === 'cache' && ['from', 'source', 'src'].includes(k) ? ': seeding a cache mount from a stage is not supported by Berth' : '';
    throw new DockerfileError(line, `${k}= does not apply to a ${type} mount${why} (--mount=${spec}); it takes ${allowed[type].join(', ')}`);
  }
  const sharing = (fields.get('sharing') ?? 'shared') as MountRequest['sharing'];
  if (!['shared', 'private', 'locked'].includes(sharing)) throw new DockerfileError(line, `invalid sharing=${sharing} in --mount=${spec}: use shared, private or locked`);
  // bind mounts are read-only unless rw; cache mounts are writable unless ro.
  const readonly = type === 'bind' ? !(bool('rw') || bool('readwrite')) : bool('ro') || bool('readonly');
  return {
    type,
    target: path.posix.resolve('/', target),
    source: fields.get('source') ?? fields.get('src'),
    from: fields.get('from'),
    id,
    readonly,
    required: bool('required'),
    mode: num('mode', 8),
    uid: num('uid'),
    gid: num('gid'),
    size: fields.get('size'),
    sharing,
  };
}

export interface MountEnv {
  images: ImageStore;
  context: BuildContext;
  stageChains: (name: string) => string[] | undefined; // a stage's layers, or an image's
  secrets: SecretSource[];
}

export interface PreparedMounts {
  specs: MountSpec[];
  targets: string[];
  cleanup: () => void;
}

// The host directory behind a cache mount: one per id, kept across builds
// under the store (closed to other users with the rest of it).
function cacheDir(images: ImageStore, m: MountRequest): string {
  const key = createHash('sha256').update(m.id ?? m.target).digest('hex').slice(0, 32);
  const dir = path.join(images.paths.root, 'build-cache-mounts', key);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(dir, { mode: m.mode ?? 0o755 });
    } catch (e) {
      // Another build (another kernel) made it between the check and here:
      // it is theirs to set up, and as good as ours.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return dir;
      throw e;
    }
    fs.chmodSync(dir, m.mode ?? 0o755);
    fs.chownSync(dir, m.uid ?? 0, m.gid ?? 0);
  }
  return dir;
}

// sharing=locked: one step at a time uses the cache (the others wait);
// sharing=private: a step that finds it in use gets a fresh one of its own.
// The lock is an flock on a file beside the directory, held until cleanup.
async function lockCache(dir: string, sharing: MountRequest['sharing'], held: number[]): Promise<boolean> {
  if (sharing === 'shared') return true;
  const fd = fs.openSync(`${dir}.lock`, 'a+', 0o600);
  for (;;) {
    if (native().flock(fd, true)) {
      held.push(fd);
      return true;
    }
    if (sharing === 'private') {
      fs.closeSync(fd);
      return false;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function prepareMounts(requests: MountRequest[], env: MountEnv, line: number): Promise<PreparedMounts> {
  const specs: MountSpec[] = [];
  const temps: string[] = [];
  const locks: number[] = [];
  const temp = () => {
    const d = path.join(env.images.paths.tmp, `mount-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    temps.push(d);
    return d;
  };
  const cleanup = () => {
    for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
    for (const fd of locks.splice(0)) fs.closeSync(fd); // closing releases the flock
  };
  try {
    for (const m of requests) {
      switch (m.type) {
        case 'cache': {
          const dir = cacheDir(env.images, m);
          let source = dir;
          if (!(await lockCache(dir, m.sharing, locks))) {
            source = temp(); // private, and in use: this step's own, empty
            fs.chmodSync(source, m.mode ?? 0o755);
            fs.chownSync(source, m.uid ?? 0, m.gid ?? 0);
          }
          specs.push({ Type: 'bind', Source: source, Target: m.target, ReadOnly: m.readonly });
          break;
        }
        case 'tmpfs':
          specs.push({ Type: 'tmpfs', Target: m.target, ReadOnly: m.readonly, TmpfsOptions: m.size ? `size=${m.size}` : undefined });
          break;
        case 'secret': {
          const s = env.secrets.find((x) => x.id === m.id);
          const value = s?.src !== undefined ? readSecretFile(s.src) : s?.value;
          if (value === undefined) {
            if (m.required) throw new DockerfileError(line, `secret ${m.id} is required but was not given: build --secret id=${m.id},src=FILE`);
            break; // an optional secret that is not given is not mounted, as in BuildKit
          }
          const file = path.join(temp(), 'secret');
          fs.writeFileSync(file, value, { mode: m.mode ?? 0o400 });
          fs.chmodSync(file, m.mode ?? 0o400);
          fs.chownSync(file, m.uid ?? 0, m.gid ?? 0);
          specs.push({ Type: 'bind', Source: file, Target: m.target, ReadOnly: true });
          break;
        }
        case 'bind': {
          // The source resolves inside its root (the stage, or the build
          // context) as if that were "/": a link there is followed there,
          // never on the host. The shim opens it inside that root again.
          const src = m.source ?? '/';
          let root: string;
          let rel: string;
          if (m.from !== undefined) {
            const chains = env.stageChains(m.from);
            if (!chains) throw new DockerfileError(line, `--mount from=${m.from}: no stage or image is named so`);
            const stage = layersView(env.images, chains);
            const found = stage.resolve(src);
            if (!stage.locate(found)) throw new DockerfileError(line, `--mount from=${m.from},source=${src}: not found in that stage`);
            // The stage's files there as one tree of Berth's own, linked, not copied.
            root = temp();
            copyEntry(stage, found, RootView.of(root), 'src', { link: true });
            rel = 'src';
          } else {
            const ctx = env.context.view;
            rel = ctx.resolve(src);
            if (!ctx.locate(rel)) throw new DockerfileError(line, `--mount source=${src}: not found in the build context`);
            root = env.context.dir;
            if (rel === '' && env.context.hasIgnoreRules()) {
              // The context as COPY sees it (.dockerignore applied).
              root = temp();
              copyEntry(ctx, '', RootView.of(root), 'src', { exclude: (c) => env.context.excluded(c) });
              rel = 'src';
            }
          }
          if (!m.readonly) {
            // rw: writes are allowed and thrown away, so the step sees a copy.
            const copy = temp();
            copyEntry(RootView.of(root), rel, RootView.of(copy), 'rw', {});
            root = copy;
            rel = 'rw';
          }
          specs.push({ Type: 'bind', Source: `/${rel}`, SourceRoot: root, Target: m.target, ReadOnly: m.readonly });
          break;
        }
      }
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  return { specs, targets: specs.map((s) => s.Target), cleanup };
}

function readSecretFile(src: string): Buffer {
  try {
    return fs.readFileSync(src);
  } catch (e) {
    throw new BerthError(`cannot read the secret file ${src}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give a readable file with --secret id=NAME,src=FILE`, 'not-found');
  }
}

// The mount points a step made in its upper dir (missing from the layers
// below) are not part of what the step wrote: remove them when they are
// still the empty stubs the shim created.
export function removeMountStubs(upper: RootView, targets: string[], existsBelow: (rel: string) => boolean): void {
  const made = new Set<string>();
  for (const t of targets) {
    const parts = t.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (!existsBelow(rel)) made.add(rel);
    }
  }
  // The step's container wrote this directory: nothing here is followed.
  for (const rel of [...made].sort((a, b) => b.length - a.length)) {
    upper.removeIf(rel, (st, p) => !((st.isDirectory() && fs.readdirSync(p).length === 0) || (st.isFile() && st.size === 0 && targets.includes(`/${rel}`))));
  }
}

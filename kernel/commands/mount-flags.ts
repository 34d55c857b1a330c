// The mount grammar of docker's CLI: -v/--volume, --mount and --tmpfs,
// parsed into the engine's MountSpec. Relative -v host paths (./data) are
// taken from the current directory, as newer docker CLIs do; in a notebook
// that is the notebook's folder.
import * as path from 'path';
import { HostConfig, MountSpec } from '../engine';
import { invalidFlag } from './flags';

function bad(cmd: string, flag: string, value: string, why: string): never {
  return invalidFlag(cmd, value, flag, why);
}

function isHostPath(s: string): boolean {
  return s.startsWith('/') || s.startsWith('./') || s.startsWith('../') || s === '.' || s === '..' || s.startsWith('~/');
}

// -v [SOURCE:]TARGET[:OPTIONS]
export function parseVolumeFlag(cmd: string, spec: string, userEnv: NodeJS.ProcessEnv): MountSpec {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) bad(cmd, '-v, --volume', spec, 'expected [NAME|HOST-PATH:]CONTAINER-PATH[:ro], e.g. mydata:/data or ./data:/data:ro');
  let source: string | undefined;
  let target: string;
  let opts = '';
  if (parts.length === 1) target = parts[0];
  else if (parts.length === 2 && parts[1].startsWith('/')) [source, target] = parts;
  else if (parts.length === 2) [target, opts] = parts;
  else [source, target, opts] = parts;
  if (!target.startsWith('/')) bad(cmd, '-v, --volume', spec, `the container path must be absolute: ${target}`);
  const options = opts ? opts.split(',') : [];
  for (const o of options) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'rprivate', 'private', 'rslave', 'slave'].includes(o)) bad(cmd, '-v, --volume', spec, `unknown option "${o}"; use ro or rw`);
  }
  const readOnly = options.includes('ro');
  if (source !== undefined && isHostPath(source)) {
    const abs = source.startsWith('~/') ? path.join(userEnv.HOME ?? '/root', source.slice(2)) : path.resolve(source);
    return { Type: 'bind', Source: abs, Target: target, ReadOnly: readOnly, CreateHostPath: true };
  }
  return { Type: 'volume', Source: source, Target: target, ReadOnly: readOnly, NoCopy: options.includes('nocopy') || undefined };
}

const TRUE = ['', 'true', '1'];
const FALSE = ['false', '0'];

// --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,...]
export function parseMountFlag(cmd: string, spec: string): MountSpec {
  const m: Partial<MountSpec> & { Type: MountSpec['Type'] } = { Type: 'volume', ReadOnly: false };
  const tmpfs: string[] = [];
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    switch (key) {
      case 'type':
        if (value !== 'bind' && value !== 'volume' && value !== 'tmpfs') bad(cmd, '--mount', spec, `type must be bind, volume or tmpfs, not "${value}"`);
        m.Type = value;
        break;
      case 'source':
      case 'src':
        m.Source = value;
        break;
      case 'target':
      case 'destination':
      case 'dst':
        m.Target = value;
        break;
      case 'readonly':
      case 'ro':
        if (![...TRUE, ...FALSE].includes(value)) bad(cmd, '--mount', spec, `readonly takes true or false, not "${value}"`);
        m.ReadOnly = TRUE.includes(value);
        break;
      case 'volume-nocopy':
        m.NoCopy = TRUE.includes(value);
        break;
      case 'tmpfs-size':
        tmpfs.push(`size=${value}`);
        break;
      case 'tmpfs-mode':
        tmpfs.push(`mode=${value}`);
        break;
      case 'bind-propagation':
      case 'consistency':
      case 'volume-driver':
        break; // accepted for compatibility: Berth's mounts are private, its one driver local
      default:
        bad(cmd, '--mount', spec, `unknown field "${key}"; use type, source, target, readonly, volume-nocopy, tmpfs-size or tmpfs-mode`);
    }
  }
  if (!m.Target) bad(cmd, '--mount', spec, 'target is required, e.g. type=volume,source=mydata,target=/data');
  if (m.Type === 'bind') {
    if (!m.Source) bad(cmd, '--mount', spec, 'a bind mount needs source=HOST-PATH');
    m.Source = path.resolve(m.Source);
  }
  if (tmpfs.length) {
    if (m.Type !== 'tmpfs') bad(cmd, '--mount', spec, 'tmpfs-size and tmpfs-mode need type=tmpfs');
    m.TmpfsOptions = tmpfs.join(',');
  }
  return m as MountSpec;
}

// --tmpfs PATH[:OPTIONS]
export function parseTmpfsFlag(cmd: string, spec: string): MountSpec {
  const i = spec.indexOf(':');
  const target = i < 0 ? spec : spec.slice(0, i);
  const opts = i < 0 ? '' : spec.slice(i + 1);
  if (!target.startsWith('/')) bad(cmd, '--tmpfs', spec, `the container path must be absolute, e.g. /run:size=64m`);
  return { Type: 'tmpfs', Target: target, ReadOnly: opts.split(',').includes('ro'), TmpfsOptions: opts };
}

// Fills both the docker-shaped HostConfig fields and the list the engine mounts.
export function mountsFromFlags(cmd: string, volumes: string[], mounts: string[], tmpfs: string[], host: Partial<HostConfig>, userEnv: NodeJS.ProcessEnv): MountSpec[] {
  const fromV = volumes.map((v) => parseVolumeFlag(cmd, v, userEnv));
  const fromMount = mounts.map((v) => parseMountFlag(cmd, v));
  const fromTmpfs = tmpfs.map((v) => parseTmpfsFlag(cmd, v));
  host.Binds = volumes;
  host.Mounts = fromMount;
  host.Tmpfs = Object.fromEntries(fromTmpfs.map((t) => [t.Target, t.TmpfsOptions ?? '']));
  return [...fromV, ...fromMount, ...fromTmpfs];
}

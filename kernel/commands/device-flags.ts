// --device and --gpus in docker's grammar: HOST[:CONTAINER][:PERMISSIONS]
// or a CDI name (VENDOR/CLASS=NAME) for --device, and docker's CSV of
// count, device, capabilities, driver and options for --gpus.
import type { DeviceMapping, DeviceRequest, HostConfig } from '../engine';
import { FlagSpec, FlagValues, invalidFlag } from './flags';

export const deviceFlags: FlagSpec[] = [
  { long: 'device', kind: 'list', help: 'Add a host device to the container (HOST[:CONTAINER][:rwm], or a CDI name such as vendor.com/class=name)' },
  { long: 'gpus', kind: 'string', help: 'GPU devices to add to the container ("all", a count, or "device=0,1"; capabilities=... as docker)' },
];

function validMode(m: string): boolean {
  return /^(?!.*(.).*\1)[rwm]{1,3}$/.test(m);
}

// A CDI name has a kind (vendor/class) before "=", and no ":" there.
function isCdiName(s: string): boolean {
  return /^[^/=:]+\/[^/=:]+=/.test(s);
}

// As docker's parser: a second field that is a valid mode is the permissions.
export function parseDeviceMapping(cmd: string, spec: string): DeviceMapping {
  const bad = (why: string): never => invalidFlag(cmd, spec, '--device', why);
  const parts = spec.split(':');
  if (parts.length > 3) bad('write HOST-PATH[:CONTAINER-PATH][:PERMISSIONS], e.g. /dev/fuse or /dev/sdb:/dev/xvdc:r');
  let dst = '';
  let perms = 'rwm';
  if (parts.length === 3) perms = parts[2];
  if (parts.length >= 2) {
    if (validMode(parts[1])) perms = parts[1];
    else dst = parts[1];
  }
  if (!validMode(perms)) bad(`invalid device mode: ${perms}; permissions are any of r (read), w (write) and m (mknod), e.g. rw`);
  if (!parts[0].startsWith('/')) bad('the host path must be absolute, e.g. /dev/fuse');
  const container = dst || parts[0];
  if (!container.startsWith('/')) bad('the container path must be absolute, e.g. /dev/fuse');
  return { PathOnHost: parts[0], PathInContainer: container, CgroupPermissions: perms };
}

// One CSV record as Go's encoding/csv reads it: "..." quotes a field, "" is a quote.
function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= s.length) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error('extraneous or missing " in quoted-field');
        if (s[i] === '"' && s[i + 1] === '"') (field += '"'), (i += 2);
        else if (s[i] === '"') {
          i++;
          break;
        } else field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
    } else {
      const end = s.indexOf(',', i);
      field = s.slice(i, end < 0 ? s.length : end);
      i = end < 0 ? s.length : end;
    }
    out.push(field);
    i++;
  }
  return out;
}

function parseCount(s: string): number {
  if (s === 'all') return -1;
  if (!/^-?\d+$/.test(s)) throw new Error(`invalid count (${s}): value must be either "all" or an integer`);
  return Number(s);
}

export function parseGpus(cmd: string, value: string): DeviceRequest {
  try {
    const req: DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: null, Options: {} };
    const seen = new Set<string>();
    for (const field of csvFields(value)) {
      const eq = field.indexOf('=');
      const key = eq < 0 ? field : field.slice(0, eq);
      const val = eq < 0 ? '' : field.slice(eq + 1);
      if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
      seen.add(key);
      if (eq < 0) {
        seen.add('count');
        req.Count = parseCount(key);
        continue;
      }
      switch (key) {
        case 'driver': req.Driver = val; break;
        case 'count': req.Count = parseCount(val); break;
        case 'device': req.DeviceIDs = val.split(','); break;
        case 'capabilities': req.Capabilities = [[...val.split(','), 'gpu']]; break;
        case 'options':
          for (const kv of csvFields(val)) {
            const i = kv.indexOf('=');
            if (i < 0) throw new Error(`invalid key value pair format in driver options: ${kv}`);
            req.Options[kv.slice(0, i)] = kv.slice(i + 1);
          }
          break;
        default: throw new Error(`unexpected key '${key}' in '${field}'`);
      }
    }
    if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
    if (req.Capabilities === null) req.Capabilities = [['gpu']];
    return req;
  } catch (e) {
    return invalidFlag(cmd, value, '--gpus', (e as Error).message);
  }
}

export function devicesFromFlags(cmd: string, f: FlagValues): Pick<HostConfig, 'Devices' | 'DeviceRequests'> {
  const Devices: DeviceMapping[] = [];
  const DeviceRequests: DeviceRequest[] = [];
  const cdi: string[] = [];
  for (const d of (f.device as string[] | undefined) ?? []) {
    if (isCdiName(d)) cdi.push(d);
    else Devices.push(parseDeviceMapping(cmd, d));
  }
  if (cdi.length) DeviceRequests.push({ Driver: 'cdi', Count: 0, DeviceIDs: cdi, Capabilities: null, Options: {} });
  if (typeof f.gpus === 'string') DeviceRequests.push(parseGpus(cmd, f.gpus));
  return { Devices, DeviceRequests };
}

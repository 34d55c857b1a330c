// CDI's qualified device names, VENDOR/CLASS=NAME ("nvidia.com/gpu=0"), with
// the character rules of the CDI specification.
import { BerthError } from '../errors';

export interface QualifiedName {
  vendor: string;
  class: string;
  name: string;
  kind: string; // vendor/class
}

const VENDOR = /^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const CLASS = /^[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?$/;

export function checkKind(kind: string, where: string): { vendor: string; class: string } {
  const slash = kind.indexOf('/');
  const vendor = kind.slice(0, slash), cls = kind.slice(slash + 1);
  if (slash < 0 || !VENDOR.test(vendor) || !CLASS.test(cls)) {
    throw new BerthError(`${where}: invalid CDI kind "${kind}": write VENDOR/CLASS, e.g. example.com/device (letters, digits, "-", "_", and "." in the vendor)`);
  }
  return { vendor, class: cls };
}

export function checkDeviceName(name: string, where: string): void {
  if (!NAME.test(name)) throw new BerthError(`${where}: invalid CDI device name "${name}": use letters, digits, "-", "_", "." and ":", starting and ending with a letter or digit`);
}

export function parseQualifiedName(s: string): QualifiedName {
  const eq = s.indexOf('=');
  if (eq < 0) throw new BerthError(`"${s}" is not a CDI device name: write VENDOR/CLASS=NAME, e.g. nvidia.com/gpu=0`);
  const kind = s.slice(0, eq), name = s.slice(eq + 1);
  const { vendor, class: cls } = checkKind(kind, `CDI device "${s}"`);
  checkDeviceName(name, `CDI device "${s}"`);
  return { vendor, class: cls, name, kind };
}

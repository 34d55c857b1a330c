// IPv4 subnet arithmetic for IPAM.
import { BerthError } from '../errors';

export function toInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new BerthError(`invalid IPv4 address "${ip}"`);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet {
  base: number;
  prefix: number;
  size: number;
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m || Number(m[2]) < 8 || Number(m[2]) > 30) throw new BerthError(`invalid subnet "${cidr}": use CIDR form with a prefix from /8 to /30, e.g. 172.30.0.0/16`);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const base = toInt(m[1]) - (toInt(m[1]) % size);
  return { base, prefix, size };
}

export function contains(s: Subnet, ip: string): boolean {
  const n = toInt(ip);
  return n > s.base && n < s.base + s.size - 1;
}

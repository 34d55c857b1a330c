// Where an image reference lives: docker's rules. "busybox" is
// docker.io/library/busybox; the first component is a registry when it has a
// dot or a port, or is "localhost".
import { BerthError } from '../errors';
import { parseReference } from '../images/reference';

export interface RegistryRef {
  registry: string; // "registry-1.docker.io", "localhost:5000"
  display: string; // the host as users write it: "docker.io", "localhost:5000"
  path: string; // "library/busybox", "team/app"
  tag: string;
  digest?: string;
  familiar: string; // how the store names it: "busybox:latest", "localhost:5000/team/app:v1"
}

export function registryRef(text: string): RegistryRef {
  const r = parseReference(text);
  const registry = r.domain === 'docker.io' ? 'registry-1.docker.io' : r.domain;
  return { registry, display: r.domain, path: r.path, tag: r.tag, digest: r.digest, familiar: `${r.repository}:${r.tag}` };
}

// Plain HTTP only for loopback registries or ones the user marks insecure
// (BERTH_INSECURE_REGISTRIES="host:port,host2"), as docker's daemon.
export function scheme(registry: string, env: NodeJS.ProcessEnv = process.env): 'http' | 'https' {
  const host = registry.replace(/:\d+$/, '');
  if (host === 'localhost' || /^127\./.test(host) || host === '[::1]') return 'http';
  const insecure = (env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return insecure.includes(registry) ? 'http' : 'https';
}

export function checkRegistryName(name: string): void {
  if (!/^(?:[a-zA-Z0-9.-]+|\[[a-fA-F0-9:]+\])(:\d+)?$/.test(name)) throw new BerthError(`invalid registry "${name}": use HOST[:PORT] or [IPv6]:PORT`);
}

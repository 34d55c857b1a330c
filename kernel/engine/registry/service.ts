// The registry service: pull, push, login and logout against OCI
// distribution registries. The client, credentials and transfer code load
// on first use, so commands that never reach a registry never pay for them.
import { during } from '../store/leases';
import { BerthError } from '../errors';
import type { ImageStore } from '../images/store';
import type { Image } from '../images/types';
import type { PullEvent, PullRequest } from './pull';
import type { PushEvent, PushOptions } from './push';
import { registryRef, RegistryRef } from './names';

export type { PullEvent, PullRequest } from './pull';
export type { PushEvent, PushOptions } from './push';
export type { RegistryRef } from './names';

// How docker names the registries: "docker.io" is the Hub's API host.
function registryOf(server: string): string {
  return server === 'docker.io' ? 'registry-1.docker.io' : server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

export class RegistryService {
  constructor(private readonly store: ImageStore, private readonly env: NodeJS.ProcessEnv = process.env) {}

  // Where a reference lives (registry, repository, tag), as docker parses it.
  parse(ref: string): RegistryRef {
    return registryRef(ref);
  }

  pull(req: PullRequest, emit?: (e: PullEvent) => void): Promise<Image> {
    return (require('./pull') as typeof import('./pull')).pullImage(this.store, req, emit, this.env);
  }

  push(ref: string, opts: PushOptions, emit?: (e: PushEvent) => void): Promise<{ digest: string; size: number }> {
    return during(this.store.paths, `push ${ref}`, () => (require('./push') as typeof import('./push')).pushImage(this.store, ref, emit, this.env, opts));
  }

  // Checks the credentials against the registry's /v2/ before keeping them;
  // returns where they went (config.json, or the credential helper named there).
  async login(server: string, username: string, password: string, opts: { tlsVerify?: boolean } = {}): Promise<{ storedIn: string; helper: boolean }> {
    const { RegistryClient } = require('./client') as typeof import('./client');
    const registry = registryOf(server);
    const client = new RegistryClient(registry, { username, password }, this.env, opts);
    const r = await client.request('GET', '/v2/', { scope: '' });
    if (!r.ok) throw new BerthError(`login attempt to ${client.base}/v2/ failed with status: ${r.status} ${r.statusText}`, 'permission');
    const storedIn = (require('./credentials') as typeof import('./credentials')).store(server === 'docker.io' ? 'docker.io' : registry, { username, password }, this.env);
    return { storedIn, helper: !storedIn.startsWith('/') };
  }

  // Returns the registry name, and whether there were credentials to remove.
  logout(server: string): { registry: string; removed: boolean } {
    const registry = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    return { registry, removed: (require('./credentials') as typeof import('./credentials')).remove(registry, this.env) };
  }
}

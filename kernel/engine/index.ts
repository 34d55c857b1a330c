// The engine's one door. Front ends and commands reach images, builds,
// registries, containers, networks, volumes and records only through the
// services here, and the types and errors exported below. Each service is
// made (and its code loaded) the first time it is asked for, so that a CLI
// call pays only for what its command touches: `berth ps` never loads the
// tar code of builds and pulls.
import type { Builder } from './build/builder';
import type { ContainerService } from './containers/service';
import type { ContextService } from './contexts/service';
import type { ImagesService } from './images/service';
import type { ImageStore } from './images/store';
import type { NetworksService } from './network/service';
import type { NetworkStore } from './network/store';
import type { RecordsService } from './records/records';
import type { RegistryService } from './registry/service';
import type { VolumeStore } from './volumes/store';
import { native } from './native';
import * as fs from 'fs';
import * as path from 'path';
import { closeStore } from './store/guard';
import { tryLock } from './store/files';
import { removeOwnTmpAtExit } from './store/leases';
import { needsRecovery } from './store/recovery';
import type { Finding } from './store/recovery';
import { assertEntered, squashNotice } from './store/rootless';
import { StorePaths, storePaths } from './store/paths';

export { storePaths };

export class Engine {
  private cache = new Map<string, unknown>();

  constructor(readonly paths: StorePaths = storePaths()) {
    assertEntered();
    closeStore(paths);
    removeOwnTmpAtExit(paths);
    // A process killed mid-operation left a lease, a tmp directory or the
    // trash behind: finish or roll back its work now (two directory reads
    // when there is none).
    // Never fatal: what it cannot clean now, the next start or system prune does.
    if (needsRecovery(paths)) this.recover().catch(() => undefined);
  }

  // What crashed or killed processes left: cleaned at start when there is
  // any, and by `system prune`. Returns what was found; `system check`
  // reports the same without changing anything. One process at a time
  // (another one recovering already is left to it).
  async recover(): Promise<Finding[]> {
    const { recoverStoreFiles } = require('./store/recovery') as typeof import('./store/recovery');
    const { recoverContainers } = require('./containers/recovery') as typeof import('./containers/recovery');
    const held = tryLock(path.join(this.paths.root, 'recovery.lock'));
    if (held === undefined) return [];
    try {
      const containers = recoverContainers(this.paths, (id) => this.containers.remove(id, true));
      await containers.done;
      return [...containers.findings, ...recoverStoreFiles(this.paths)];
    } finally {
      fs.closeSync(held);
    }
  }

  // What recover() would clean, without cleaning it.
  leftovers(): Finding[] {
    const { storeLeftovers } = require('./store/recovery') as typeof import('./store/recovery');
    const { containerLeftovers } = require('./containers/recovery') as typeof import('./containers/recovery');
    return [...containerLeftovers(this.paths).findings, ...storeLeftovers(this.paths)];
  }

  private once<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  private get imageStore(): ImageStore {
    return this.once('image-store', () => new (require('./images/store') as typeof import('./images/store')).ImageStore(this.paths));
  }

  private get networkStore(): NetworkStore {
    return this.once('network-store', () => new (require('./network/store') as typeof import('./network/store')).NetworkStore(this.paths));
  }

  get containers(): ContainerService {
    return this.once('containers', () => new (require('./containers/service') as typeof import('./containers/service')).ContainerService(this.paths, this.imageStore, this.networkStore));
  }

  get images(): ImagesService {
    return this.once('images', () => new (require('./images/service') as typeof import('./images/service')).ImagesService(this.imageStore, () => this.containers.list(true)));
  }

  get builds(): Builder {
    return this.once('builds', () => new (require('./build/builder') as typeof import('./build/builder')).Builder(this.imageStore, this.containers));
  }

  get registry(): RegistryService {
    return this.once('registry', () => new (require('./registry/service') as typeof import('./registry/service')).RegistryService(this.imageStore));
  }

  get networks(): NetworksService {
    return this.once('networks', () => new (require('./network/service') as typeof import('./network/service')).NetworksService(this.networkStore, () => this.containers));
  }

  get records(): RecordsService {
    return this.once('records', () => new (require('./records/records') as typeof import('./records/records')).RecordsService());
  }

  get contexts(): ContextService {
    return this.once('contexts', () => new (require('./contexts/service') as typeof import('./contexts/service')).ContextService());
  }

  get volumes(): VolumeStore {
    return this.containers.volumes;
  }

  // Something the user must hear once about this store (rootless without a
  // subordinate range); undefined after the first call, and for root.
  notice(): string | undefined {
    return squashNotice(this.paths.root);
  }

  // Removes this store's cgroup parent, and each ancestor that is left empty.
  // Containers must be removed first (a busy cgroup stays).
  removeCgroupParent(): void {
    const parts = this.paths.cgroupParent.split('/').filter(Boolean);
    for (let i = parts.length; i > 0; i--) native().cgroupRemove(parts.slice(0, i - 1).join('/'), parts[i - 1]);
  }
}

export {
  asBerthError, BerthError, BuildError, CancelledError, checkAborted, CommandStartError, NotFoundError,
} from './errors';
export type { ErrorKind } from './errors';
export type { StorePaths } from './store/paths';
export type { Finding } from './store/recovery';
export * from './containers/types';
export type { ExecRequest } from './containers/shim-config';
export type { LogEntry, LogOptions } from './containers/logs';
export type { ProcessRow, StatsSample } from './containers/observe';
export type { CommitRequest } from './containers/commit';
export type { Change, ChangeKind } from './images/diff';
export type { Image, ImageConfig, Descriptor } from './images/types';
export type { ImportRequest } from './images/import';
export type { RemovedImage } from './images/service';
export type { BuildEvent, BuildRequest } from './build/builder';
export type { SecretSource } from './build/run-mounts';
export { recentTrace } from './trace';
export type { NetworkRecord } from './network/types';
export type { NetworkMember } from './network/service';
export type { PullEvent, PushEvent, RegistryRef } from './registry/service';
export type { VolumeRecord } from './volumes/types';
export type { DeviceMapping, DeviceRequest } from './devices/types';
export type { ContextRecord, JobBackend, JobHandle, JobInfo, JobRecord, JobRequest, JobStatus, SlurmEndpoint } from './contexts/types';
export { hexOf } from './images/digest';
export { formatReference, parseReference } from './images/reference';
export { DEFAULT_RECORD_FILE } from './records/records';
export { isSecretName, maskEnv } from './records/secret-env';
export type { ExperimentRecord } from './records/records';

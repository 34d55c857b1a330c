// The engine: images and containers on one store. It knows nothing of
// Jupyter or terminals; front ends talk to it through these typed calls.
import { Builder } from './build/builder';
import { ContainerService } from './containers/service';
import { NetworkStore } from './network/store';
import { ImageStore } from './images/store';
import { native } from './native';
import { VolumeStore } from './volumes/store';
import { closeStore } from './store/guard';
import { StorePaths, storePaths } from './store/paths';

export class Engine {
  readonly images: ImageStore;
  readonly containers: ContainerService;
  readonly builder: Builder;
  readonly networks: NetworkStore;
  readonly volumes: VolumeStore;

  constructor(readonly paths: StorePaths = storePaths()) {
    closeStore(paths);
    this.images = new ImageStore(paths);
    this.networks = new NetworkStore(paths);
    this.containers = new ContainerService(paths, this.images, this.networks);
    this.volumes = this.containers.volumes;
    this.builder = new Builder(this.images, this.containers);
  }

  // Removes this store's cgroup parent, and each ancestor that is left empty.
  // Containers must be removed first (a busy cgroup stays).
  removeCgroupParent(): void {
    const parts = this.paths.cgroupParent.split('/').filter(Boolean);
    for (let i = parts.length; i > 0; i--) native().cgroupRemove(parts.slice(0, i - 1).join('/'), parts[i - 1]);
  }
}

export { BerthError, NotFoundError } from './errors';
export type { StorePaths } from './store/paths';
export * from './containers/types';
export type { Image, ImageConfig } from './images/types';
export type { VolumeRecord } from './volumes/types';

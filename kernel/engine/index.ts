// The engine: images and containers on one store. It knows nothing of
// Jupyter or terminals; front ends talk to it through these typed calls.
import { ContainerService } from './containers/service';
import { ImageStore } from './images/store';
import { StorePaths, storePaths } from './store/paths';

export class Engine {
  readonly images: ImageStore;
  readonly containers: ContainerService;

  constructor(readonly paths: StorePaths = storePaths()) {
    this.images = new ImageStore(paths);
    this.containers = new ContainerService(paths, this.images);
  }
}

export { BerthError, NotFoundError } from './errors';
export type { StorePaths } from './store/paths';
export * from './containers/types';
export type { Image, ImageConfig } from './images/types';

// Where a layer came from in registries (compressed digest, size, repo),
// so push can skip or mount it instead of uploading it again.
import * as path from 'path';
import { readJson, withLock, writeJsonAtomic } from '../store/files';
import { StorePaths } from '../store/paths';

export interface LayerSource {
  digest: string;
  size: number;
  mediaType: string;
  registry: string;
  repo: string;
  unpackedSize?: number; // of the tar it decodes to (a pulled layer's)
}

export class LayerSources {
  constructor(private readonly paths: StorePaths, private readonly lockFile: string) {}

  private get file(): string {
    return path.join(this.paths.images, 'layer-sources.json');
  }

  all(): Record<string, LayerSource> {
    return readJson(this.file) ?? {};
  }

  record(diffId: string, src: LayerSource): void {
    withLock(this.lockFile, () => {
      const all = this.all();
      // The same blob pushed elsewhere still decodes to the same size.
      const before = all[diffId];
      all[diffId] = before?.digest === src.digest && before.unpackedSize !== undefined ? { unpackedSize: before.unpackedSize, ...src } : src;
      writeJsonAtomic(this.file, all);
    });
  }
}

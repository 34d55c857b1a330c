// Deletes what no image uses any more: blobs outside the index's images and
// snapshots outside their chains (and those of containers, kept by caller).
import * as fs from 'fs';
import * as path from 'path';
import { StorePaths } from '../store/paths';
import { LayerSource } from './layer-sources';
import { Image } from './types';

// A pulled layer's compressed blob lives as long as its diff ID does.
export function collectGarbage(paths: StorePaths, images: Image[], keepChainIds: Set<string> = new Set(), sources: Record<string, LayerSource> = {}): string[] {
  const live = new Set<string>();
  const liveChains = new Set<string>(keepChainIds);
  for (const img of images) {
    live.add(img.manifestDigest);
    live.add(img.id);
    for (const l of img.layers) {
      live.add(l.digest);
      if (sources[l.digest]) live.add(sources[l.digest].digest);
    }
    for (const c of img.chainIds) liveChains.add(c);
  }
  const deleted: string[] = [];
  const blobDir = path.join(paths.images, 'blobs', 'sha256');
  for (const hex of fs.readdirSync(blobDir)) {
    if (hex.endsWith('.tmp') || live.has(`sha256:${hex}`)) continue;
    fs.rmSync(path.join(blobDir, hex), { force: true });
    deleted.push(`sha256:${hex}`);
  }
  if (fs.existsSync(paths.snapshots)) {
    for (const hex of fs.readdirSync(paths.snapshots)) {
      if (hex === path.basename(paths.initLayer) || !/^[a-f0-9]{64}$/.test(hex) || liveChains.has(`sha256:${hex}`)) continue;
      fs.rmSync(path.join(paths.snapshots, hex), { recursive: true, force: true });
    }
  }
  return deleted;
}


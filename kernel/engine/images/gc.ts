// Deletes what nothing uses any more: blobs outside the index's images and
// snapshots outside their chains, those of containers, and whatever a live
// operation holds in its lease (store/leases.ts). Runs under the index lock.
// What is there is listed before anything is taken as live: content made
// after the listing was held by its maker's lease before it existed, so it
// is never taken by mistake.
import * as fs from 'fs';
import * as path from 'path';
import { StorePaths } from '../store/paths';
import { leasedIds } from '../store/leases';
import { removeDir } from '../store/trash';
import { LayerSource } from './layer-sources';
import { Image } from './types';

export interface LiveSet {
  images: Image[];
  keepChainIds: Set<string>; // every container's layers
  sources: Record<string, LayerSource>; // a pulled layer's compressed blob lives as long as its diff ID does
}

const HEX = /^[a-f0-9]{64}$/;

export function collectGarbage(paths: StorePaths, liveNow: () => LiveSet): string[] {
  const blobDir = path.join(paths.images, 'blobs', 'sha256');
  const blobs = fs.readdirSync(blobDir).filter((h) => HEX.test(h));
  const snaps = fs.existsSync(paths.snapshots) ? fs.readdirSync(paths.snapshots).filter((h) => HEX.test(h)) : [];
  const { images, keepChainIds, sources } = liveNow();
  const leased = leasedIds(paths);
  const live = new Set<string>(leased);
  const liveChains = new Set<string>([...keepChainIds, ...leased]);
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
  for (const hex of blobs) {
    if (live.has(`sha256:${hex}`)) continue;
    fs.rmSync(path.join(blobDir, hex), { force: true }); // one unlink: never half gone
    deleted.push(`sha256:${hex}`);
  }
  // A snapshot goes through the trash: a kill mid-way leaves no half of it
  // where the store would take it for whole.
  for (const hex of snaps) if (!liveChains.has(`sha256:${hex}`)) removeDir(paths, path.join(paths.snapshots, hex));
  return deleted;
}

// `commit` and `diff`: a container's writable layer as a list of changes, or
// as a new image on top of the container's image.
import * as fs from 'fs';
import * as path from 'path';
import { BerthError, checkAborted } from '../errors';
import { ensureOwnTmp, selfId } from '../store/leases';
import { applyChanges } from '../build/metadata';
import { Change, listChanges, writeLayer } from '../images/diff';
import { existsBeneath } from '../images/tree';
import { native } from '../native';
import { ImageStore } from '../images/store';
import { Image, ImageConfig } from '../images/types';
import { Container } from './types';
import { COMMITTING } from './commit-marker';

export function containerChanges(images: ImageStore, c: Container): Change[] {
  const lowers = [...c.record.Layers].reverse().map((l) => images.snapshots.snapshotDir(l));
  // Never through a symlink of the image's: an absolute link would lead onto the host.
  const lowerHas = (rel: string) => lowers.some((d) => existsBeneath(d, rel));
  return listChanges(path.join(c.bundle, 'upper'), lowerHas);
}

export interface CommitRequest {
  ref?: string;
  message?: string;
  author?: string;
  changes?: string[];
  createdBy?: string;
  pause?: boolean; // freeze a running container while its layer is read (docker's default)
  signal?: AbortSignal; // the user stopped the commit: the container is thawed, no image is made
}

export async function commitContainer(images: ImageStore, c: Container, req: CommitRequest): Promise<Image> {
  const parent = images.list().find((i) => i.id === c.record.Image);
  if (!parent) throw new BerthError(`the image of container ${c.record.Name} is gone; cannot commit on top of it`, 'not-found');
  const tmp = path.join(ensureOwnTmp(images.paths), `commit-${c.record.Id.slice(0, 12)}-${Date.now()}.tar`);
  const marker = path.join(c.bundle, COMMITTING);
  // Frozen, the container cannot change its files between our reads.
  const parentCg = images.paths.cgroupParent;
  const frozen = req.pause !== false && c.state.Running;
  if (frozen) fs.writeFileSync(marker, selfId());
  if (frozen && (!parentCg || !native().cgroupFreeze(parentCg, c.record.Id, true))) {
    fs.rmSync(marker, { force: true });
    if (parentCg) native().cgroupFreeze(parentCg, c.record.Id, false);
    throw new BerthError(`cannot pause container ${c.record.Name} for the commit (no freezer cgroup here); stop it first, or commit with --pause=false`, 'unavailable');
  }
  try {
    const layer = await writeLayer(path.join(c.bundle, 'upper'), tmp, { signal: req.signal }).finally(() => {
      if (frozen) {
        native().cgroupFreeze(parentCg, c.record.Id, false);
        fs.rmSync(marker, { force: true });
      }
    });
    checkAborted(req.signal, `the commit of ${c.record.Name}`);
    const { descriptor } = await images.snapshots.addLayer(tmp, layer.diffId, layer.size, parent.chainIds[parent.chainIds.length - 1]);
    const r = c.record;
    const defaults = {
      ...parent.config.config,
      Env: r.Config.Env.filter((e) => !e.startsWith('HOSTNAME=')),
      Cmd: r.Config.Cmd,
      Entrypoint: r.Config.Entrypoint,
      WorkingDir: r.Config.WorkingDir,
      User: r.Config.User,
      Labels: r.Config.Labels,
    };
    applyChanges(defaults, req.changes ?? []);
    const created = new Date().toISOString();
    const config: ImageConfig = {
      ...parent.config,
      created,
      author: req.author ?? parent.config.author,
      config: defaults,
      rootfs: { type: 'layers', diff_ids: [...parent.config.rootfs.diff_ids, layer.diffId] },
      history: [...parent.config.history, { created, created_by: req.createdBy ?? [r.Path, ...r.Args].join(' '), comment: req.message ?? '' }],
    };
    return images.commitImage(config, [...parent.layers, descriptor], req.ref);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

// `export`: the container's filesystem as it sees it, as one tar stream.
export async function exportContainer(images: ImageStore, c: Container, out: NodeJS.WritableStream): Promise<void> {
  const { mergedEntries, writeEntries } = await import('../images/diff');
  const dirs = [...c.record.Layers.map((l) => images.snapshots.snapshotDir(l)), path.join(c.bundle, 'upper')];
  await writeEntries(mergedEntries(dirs), out, { opaqueMarkers: false });
}

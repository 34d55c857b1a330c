// The images service: what front ends may do with images. Names and IDs
// resolve here; removal follows docker's rules (a name of several goes
// alone; an image a container uses stays unless forced, and never while it
// runs); archives and imports are loaded only when asked for.
import * as fs from 'fs';
import { during, duringSync, leasedIds } from '../store/leases';
import { BerthError } from '../errors';
import type { Container } from '../containers/types';
import { hexOf } from './digest';
import type { ImportRequest } from './import';
import { formatReference, parseReference } from './reference';
import { ImageStore } from './store';
import { Image } from './types';

export interface RemovedImage {
  untagged: string[];
  deleted?: string; // the image ID, when the image itself went
}

export class ImagesService {
  constructor(readonly store: ImageStore, private readonly containers: () => Container[]) {}

  list(): Image[] {
    return this.store.list();
  }

  resolve(ref: string): Image {
    return this.store.resolve(ref);
  }

  tag(source: string, target: string): void {
    const img = this.store.resolve(source);
    this.store.tag(img.manifestDigest, 0, target);
  }

  repoDigests(img: Image): string[] {
    return this.store.repoDigests(img.manifestDigest);
  }

  // The name a reference stands for in this store, or undefined when it is an ID.
  nameOf(ref: string, img: Image): string | undefined {
    const isId = /^(sha256:)?[a-f0-9]{4,64}$/.test(ref) && !img.refs.includes(formatReference(parseReference(ref)));
    return isId ? undefined : formatReference(parseReference(ref));
  }

  // What every container's rootfs still needs, whatever happens to its image.
  private keptLayers(): Set<string> {
    return new Set(this.containers().flatMap((c) => c.record.Layers));
  }

  remove(ref: string, force: boolean): RemovedImage {
    return duringSync(this.store.paths, 'rmi', () => this.removeLeased(ref, force));
  }

  private removeLeased(ref: string, force: boolean): RemovedImage {
    const img = this.store.resolve(ref);
    // One name of several only goes away, whoever uses the image (as docker does).
    const byName = /^[a-f0-9]{4,64}$/.test(ref.replace(/^sha256:/, '')) && img.refs.length !== 1 ? undefined : formatReference(parseReference(ref));
    if (byName && img.refs.includes(byName) && img.refs.length > 1) {
      this.store.untag(byName);
      return { untagged: [byName] };
    }
    const users = this.containers().filter((c) => c.record.Image === img.id);
    const running = users.find((c) => c.state.Running);
    if (running) throw new BerthError(`conflict: unable to remove ${ref} (cannot be forced) - image is being used by running container ${running.record.Id.slice(0, 12)}; stop and remove it first`, 'conflict');
    if (users.length && !force) {
      throw new BerthError(`conflict: unable to delete ${hexOf(img.id).slice(0, 12)} (must be forced) - image is being used by stopped container ${users[0].record.Id.slice(0, 12)}; remove it, or use rmi -f`, 'conflict');
    }
    this.store.forget([img.manifestDigest], () => this.keptLayers());
    return { untagged: img.refs, deleted: img.id };
  }

  // image prune: dangling images, or with all every image no container uses.
  prune(all: boolean): { removed: RemovedImage[]; reclaimed: number } {
    return duringSync(this.store.paths, 'image prune', () => this.pruneLeased(all));
  }

  private pruneLeased(all: boolean): { removed: RemovedImage[]; reclaimed: number } {
    const used = new Set(this.containers().map((c) => c.record.Image));
    const victims = this.store.list().filter((i) => !used.has(i.id) && (all || i.refs.length === 0));
    const size = () => this.store.list().reduce((n, i) => n + i.size, 0);
    const before = size();
    // Looked at again under the lock: an image tagged meanwhile (a build
    // that just finished) or one a build in progress uses stays.
    const leased = () => leasedIds(this.store.paths);
    const gone = new Set(this.store.forget(victims.map((i) => i.manifestDigest), () => this.keptLayers(), (d, names) => (!all && names.length > 0) || leased().has(d)));
    const removed = victims.filter((i) => gone.has(i.manifestDigest));
    return { removed: removed.map((i) => ({ untagged: i.refs, deleted: i.id })), reclaimed: Math.max(0, before - size()) };
  }

  // What of an image is not in the store: its manifest or config blob, or a
  // layer that has neither a snapshot nor a blob to unpack it from.
  missingParts(img: Image): string[] {
    const out: string[] = [];
    if (!fs.existsSync(this.store.blobPath(img.manifestDigest))) out.push('its manifest');
    if (!fs.existsSync(this.store.blobPath(img.id))) out.push('its config');
    img.chainIds.forEach((c, i) => {
      if (!fs.existsSync(this.store.snapshots.snapshotDir(c)) && !this.store.layerBlob(img.layers[i].digest)) out.push(`layer ${img.layers[i].digest.slice(0, 19)}`);
    });
    return out;
  }

  inspect(ref: string): Record<string, unknown> {
    return (require('./inspect') as typeof import('./inspect')).imageInspect(this.store.resolve(ref));
  }

  save(picked: Array<{ image: Image; refs: string[] }>, out: NodeJS.WritableStream): Promise<void> {
    return (require('./archive') as typeof import('./archive')).saveImages(this.store, picked, out);
  }

  load(input: NodeJS.ReadableStream, signal?: AbortSignal): Promise<Image[]> {
    return during(this.store.paths, 'load', () => (require('./archive') as typeof import('./archive')).loadImages(this.store, input, signal));
  }

  import(req: ImportRequest): Promise<Image> {
    return during(this.store.paths, 'import', () => (require('./import') as typeof import('./import')).importImage(this.store, req));
  }
}

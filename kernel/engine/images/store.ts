// The image store: an OCI image layout (oci-layout, index.json, blobs by
// sha256) and the index of names on it. Unpacked layers live in the
// snapshotter, registry origins of layers in layer-sources, and garbage
// collection in gc.
import * as fs from 'fs';
import * as path from 'path';
import { NotFoundError } from '../errors';
import { readJson, syncStore, withLock, writeFileAtomic, writeJsonAtomic } from '../store/files';
import { StorePaths } from '../store/paths';
import { ensureOwnTmp, hold } from '../store/leases';
import { chainIds, hexOf, sha256 } from './digest';

export { MEDIA } from './media';
import { formatReference, parseReference } from './reference';
import { Descriptor, Image, ImageConfig, ImageManifest } from './types';
import { collectGarbage } from './gc';
import { MEDIA } from './media';
import { LayerSources } from './layer-sources';
import { Snapshotter } from './snapshots';
import { Compression, compressionOfMediaType } from './decompress';

export interface LayerBlob {
  file: string;
  digest: string; // of the file's bytes
  compression: Compression;
  mediaType: string;
  size?: number; // of the file, when compressed
}


const REF_ANNOTATION = 'io.berth.image.ref';
const INTERMEDIATE_ANNOTATION = 'io.berth.image.intermediate';
const OCI_REF_ANNOTATION = 'org.opencontainers.image.ref.name';

interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export class ImageStore {
  readonly snapshots: Snapshotter;
  readonly layerSources: LayerSources;

  constructor(readonly paths: StorePaths) {
    this.snapshots = new Snapshotter(paths, (d) => this.blobPath(d), (d) => this.layerBlob(d));
    this.layerSources = new LayerSources(paths, this.lockFile);
  }

  private get indexFile(): string {
    return path.join(this.paths.images, 'index.json');
  }

  get lockFile(): string {
    return path.join(this.paths.images, 'index.lock');
  }

  blobPath(digest: string): string {
    return path.join(this.paths.images, 'blobs', 'sha256', hexOf(digest));
  }

  // Where a layer's bytes are kept: the plain tar under its diff ID (built,
  // committed, loaded and imported layers), or, for a pulled layer, the
  // registry's compressed blob under its own digest. A pull keeps only the
  // compressed one: half the bytes to write, and push sends it as it came.
  layerBlob(diffId: string): LayerBlob | undefined {
    const plain = this.blobPath(diffId);
    if (fs.existsSync(plain)) return { file: plain, digest: diffId, compression: undefined, mediaType: MEDIA.layerTar };
    const src = this.layerSources.all()[diffId];
    if (!src) return undefined;
    const file = this.blobPath(src.digest);
    if (!fs.existsSync(file)) return undefined;
    return { file, digest: src.digest, compression: compressionOfMediaType(src.mediaType), mediaType: src.mediaType, size: src.size };
  }

  ensureLayout(): void {
    fs.mkdirSync(path.join(this.paths.images, 'blobs', 'sha256'), { recursive: true });
    ensureOwnTmp(this.paths);
    const layout = path.join(this.paths.images, 'oci-layout');
    if (!fs.existsSync(layout)) writeJsonAtomic(layout, { imageLayoutVersion: '1.0.0' });
    if (!fs.existsSync(this.indexFile)) writeJsonAtomic(this.indexFile, { schemaVersion: 2, mediaType: MEDIA.index, manifests: [] });
  }

  private readIndex(): Index {
    this.ensureLayout();
    return readJson<Index>(this.indexFile) ?? { schemaVersion: 2, mediaType: MEDIA.index, manifests: [] };
  }

  readBlobJson<T>(digest: string): T {
    return JSON.parse(fs.readFileSync(this.blobPath(digest), 'utf8')) as T;
  }

  // Stores content under its digest (idempotent).
  putBlob(data: Buffer | string): Descriptor & { digest: string } {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const digest = sha256(buf);
    hold(digest); // before it exists, so no collection takes it before its image is recorded
    const file = this.blobPath(digest);
    if (!fs.existsSync(file)) writeFileAtomic(file, buf);
    return { mediaType: '', digest, size: buf.length };
  }

  // Every image: tagged ones, dangling ones (<none>) and build steps
  // (intermediate, shown by `images -a` only).
  list(): Image[] {
    // A long-lived kernel lists on every run: while index.json is the same
    // file (written by rename, so a change is a new inode), the list is too,
    // and a copy of it costs a tenth of reading every manifest and config.
    const key = this.indexKey();
    if (key && this.listed?.key === key) return structuredClone(this.listed.images);
    const images = this.readList();
    if (key) this.listed = { key, images: structuredClone(images) };
    return images;
  }

  private listed: { key: string; images: Image[] } | undefined;

  private indexKey(): string | undefined {
    try {
      const st = fs.statSync(this.indexFile, { bigint: true });
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  private readList(): Image[] {
    const index = this.readIndex();
    const out: Image[] = [];
    for (const digest of new Set(index.manifests.map((d) => d.digest))) {
      const img = this.assemble(digest, index.manifests);
      if (img) out.push(img);
    }
    return out;
  }

  // One image with the names and registry digests the index gives it; a
  // manifest whose blobs were removed under us gives none.
  private assemble(digest: string, entries: Index['manifests']): Image | undefined {
    let img: Image;
    try {
      img = this.load(digest);
    } catch {
      return undefined;
    }
    for (const d of entries) {
      if (d.digest !== digest) continue;
      const ref = d.annotations?.[REF_ANNOTATION];
      if (ref) img.refs.push(ref);
      if (d.annotations?.[INTERMEDIATE_ANNOTATION] !== 'true') img.intermediate = false;
      for (const rd of (d.annotations?.['io.berth.image.repo-digests'] ?? '').split(',').filter(Boolean)) {
        img.repoDigests = [...new Set([...(img.repoDigests ?? []), rd])];
      }
    }
    return img;
  }

  load(manifestDigest: string): Image {
    const manifest = this.readBlobJson<ImageManifest>(manifestDigest);
    const config = this.readBlobJson<ImageConfig>(manifest.config.digest);
    return {
      id: manifest.config.digest,
      refs: [],
      manifestDigest,
      config,
      chainIds: chainIds(config.rootfs.diff_ids),
      size: manifest.layers.reduce((n, l) => n + l.size, 0),
      layers: manifest.layers,
      intermediate: true,
    };
  }

  // Finds an image by reference ("busybox", "busybox:latest") or by ID prefix.
  resolve(nameOrId: string): Image {
    const idHex = nameOrId.replace(/^sha256:/, '');
    if (!/^[a-f0-9]{4,64}$/.test(idHex) && !nameOrId.includes('@')) {
      // A name: found in the index, without loading every image of the store.
      const ref = formatReference(parseReference(nameOrId));
      const entries = this.readIndex().manifests;
      const hit = entries.find((m) => m.annotations?.[REF_ANNOTATION] === ref);
      const img = hit && this.assemble(hit.digest, entries);
      if (img) return img;
    }
    const images = this.list();
    if (/^[a-f0-9]{4,64}$/.test(idHex)) {
      const byId = images.filter((i) => hexOf(i.id).startsWith(idHex));
      if (byId.length === 1) return byId[0];
    }
    // "repo@sha256:..." finds an image by the digest a registry knows it by.
    if (nameOrId.includes('@sha256:')) {
      const byRepoDigest = images.find((i) => i.repoDigests?.includes(nameOrId));
      if (byRepoDigest) return byRepoDigest;
    }
    if (/^sha256:[a-f0-9]{64}$/.test(nameOrId)) {
      const byManifest = images.find((i) => i.manifestDigest === nameOrId);
      if (byManifest) return byManifest;
    }
    const ref = formatReference(parseReference(nameOrId));
    const found = images.find((i) => i.refs.includes(ref));
    if (!found) {
      throw new NotFoundError(`Unable to find image '${ref}' locally; pull, build or import it (berth pull ${ref}), or list images with \`berth images\``);
    }
    return found;
  }

  // Like commitImage, for config bytes that must keep their digest (a pulled
  // image keeps the registry's image ID).
  commitRawConfig(configBytes: Buffer, layers: Descriptor[], ref?: string): Image {
    const cfg = this.putBlob(configBytes);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA.manifest, config: { mediaType: MEDIA.config, digest: cfg.digest, size: cfg.size }, layers };
    const man = this.putBlob(JSON.stringify(manifest));
    if (ref) this.tag(man.digest, man.size, ref);
    else this.keepUntagged(man.digest, man.size, false);
    const img = this.load(man.digest);
    img.refs = ref ? [formatReference(parseReference(ref))] : [];
    return img;
  }

  // The registry digest a pulled or pushed image is known by (RepoDigests).
  setRepoDigest(manifestDigest: string, repoDigest: string): void {
    withLock(this.lockFile, () => {
      const index = this.readIndex();
      for (const m of index.manifests) {
        if (m.digest !== manifestDigest) continue;
        const list = (m.annotations?.['io.berth.image.repo-digests'] ?? '').split(',').filter(Boolean);
        if (!list.includes(repoDigest)) list.push(repoDigest);
        m.annotations = { ...(m.annotations ?? {}), 'io.berth.image.repo-digests': list.join(',') };
        // Keep it on every entry of the image, so a retag does not lose it.
      }
      writeJsonAtomic(this.indexFile, index, true);
    });
  }

  repoDigests(manifestDigest: string): string[] {
    const out = new Set<string>();
    for (const m of this.readIndex().manifests) {
      if (m.digest === manifestDigest) for (const d of (m.annotations?.['io.berth.image.repo-digests'] ?? '').split(',').filter(Boolean)) out.add(d);
    }
    return [...out];
  }

  // Records config + layers as a manifest and points ref at it. Without a
  // ref the image is kept as dangling, or as a build step when intermediate.
  commitImage(config: ImageConfig, layers: Descriptor[], ref?: string, opts: { intermediate?: boolean } = {}): Image {
    const cfg = this.putBlob(JSON.stringify(config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: cfg.digest, size: cfg.size },
      layers,
    };
    const man = this.putBlob(JSON.stringify(manifest));
    if (ref) this.tag(man.digest, man.size, ref);
    else this.keepUntagged(man.digest, man.size, opts.intermediate === true);
    const img = this.load(man.digest);
    img.refs = ref ? [formatReference(parseReference(ref))] : [];
    img.intermediate = !ref && opts.intermediate === true;
    return img;
  }

  private keepUntagged(manifestDigest: string, size: number, intermediate: boolean): void {
    syncStore(this.paths.root); // the image's layers are on disk before the index names it
    withLock(this.lockFile, () => {
      const index = this.readIndex();
      if (index.manifests.some((m) => m.digest === manifestDigest)) return;
      index.manifests.push({ mediaType: MEDIA.manifest, digest: manifestDigest, size, annotations: intermediate ? { [INTERMEDIATE_ANNOTATION]: 'true' } : {} });
      writeJsonAtomic(this.indexFile, index, true);
    });
  }

  // Points ref at the manifest; the image it pointed at before keeps its
  // other names, or stays as a dangling image.
  tag(manifestDigest: string, size: number, refText: string): void {
    const ref = formatReference(parseReference(refText));
    syncStore(this.paths.root); // the image's layers are on disk before the index names it
    withLock(this.lockFile, () => {
      const index = this.readIndex();
      const previous = index.manifests.find((m) => m.annotations?.[REF_ANNOTATION] === ref);
      // What registries know this image by stays with it across retags.
      const repoDigests = index.manifests.find((m) => m.digest === manifestDigest && m.annotations?.['io.berth.image.repo-digests'])?.annotations?.['io.berth.image.repo-digests'];
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_ANNOTATION] !== ref && !(m.digest === manifestDigest && !m.annotations?.[REF_ANNOTATION]));
      if (previous && previous.digest !== manifestDigest && !index.manifests.some((m) => m.digest === previous.digest)) {
        index.manifests.push({ mediaType: MEDIA.manifest, digest: previous.digest, size: previous.size, annotations: {} });
      }
      index.manifests.push({
        mediaType: MEDIA.manifest,
        digest: manifestDigest,
        size,
        annotations: { [REF_ANNOTATION]: ref, [OCI_REF_ANNOTATION]: ref.slice(ref.lastIndexOf(':') + 1), ...(repoDigests ? { 'io.berth.image.repo-digests': repoDigests } : {}) },
      });
      writeJsonAtomic(this.indexFile, index, true);
    });
  }

  // Removes one name; returns true when it was the image's last name.
  untag(ref: string): boolean {
    return withLock(this.lockFile, () => {
      const index = this.readIndex();
      const entry = index.manifests.find((m) => m.annotations?.[REF_ANNOTATION] === ref);
      if (!entry) return false;
      index.manifests = index.manifests.filter((m) => m !== entry);
      const last = !index.manifests.some((m) => m.digest === entry.digest);
      writeJsonAtomic(this.indexFile, index, true);
      return last;
    });
  }

  // Forgets images entirely (all names), then drops blobs and snapshots
  // nothing uses any more, all under the index lock. keep(digest, names)
  // looks at each again under the lock (prune: still dangling, and no
  // build is using it), so a name given meanwhile is never lost.
  // Returns what was forgotten.
  forget(manifestDigests: string[], keepChainIds: () => Set<string>, keep: (digest: string, names: string[]) => boolean = () => false): string[] {
    return withLock(this.lockFile, () => {
      const index = this.readIndex();
      const gone = new Set(manifestDigests.filter((d) => !keep(d, index.manifests.filter((m) => m.digest === d).map((m) => m.annotations?.[REF_ANNOTATION]).filter((r): r is string => !!r))));
      if (gone.size) {
        index.manifests = index.manifests.filter((m) => !gone.has(m.digest));
        writeJsonAtomic(this.indexFile, index, true);
      }
      this.collect(keepChainIds);
      return [...gone];
    });
  }

  // Collects garbage only (system prune, image prune with nothing to forget):
  // what a crash or a failed write left unreferenced goes too.
  gc(keepChainIds: () => Set<string>): string[] {
    return withLock(this.lockFile, () => this.collect(keepChainIds));
  }

  private collect(keepChainIds: () => Set<string>): string[] {
    return collectGarbage(this.paths, () => ({ images: this.list(), keepChainIds: keepChainIds(), sources: this.layerSources.all() }));
  }

}

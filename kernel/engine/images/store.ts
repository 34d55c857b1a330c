// The image store: an OCI image layout (oci-layout, index.json, blobs by
// sha256) plus unpacked snapshots keyed by chain ID, shared by every
// container of every image that has the layer.
import * as fs from 'fs';
import * as path from 'path';
import { NotFoundError } from '../errors';
import { readJson, withLock, writeFileAtomic, writeJsonAtomic } from '../store/files';
import { StorePaths } from '../store/paths';
import { chainIds, hexOf, sha256 } from './digest';
import { formatReference, parseReference } from './reference';
import { Descriptor, Image, ImageConfig, ImageManifest } from './types';
import { unpackLayer } from './unpack';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
};

const REF_ANNOTATION = 'io.berth.image.ref';
const OCI_REF_ANNOTATION = 'org.opencontainers.image.ref.name';

interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export class ImageStore {
  constructor(readonly paths: StorePaths) {}

  private get indexFile(): string {
    return path.join(this.paths.images, 'index.json');
  }

  private get lockFile(): string {
    return path.join(this.paths.images, 'index.lock');
  }

  blobPath(digest: string): string {
    return path.join(this.paths.images, 'blobs', 'sha256', hexOf(digest));
  }

  snapshotDir(chainId: string): string {
    return path.join(this.paths.snapshots, hexOf(chainId));
  }

  ensureLayout(): void {
    fs.mkdirSync(path.join(this.paths.images, 'blobs', 'sha256'), { recursive: true });
    fs.mkdirSync(this.paths.tmp, { recursive: true });
    const layout = path.join(this.paths.images, 'oci-layout');
    if (!fs.existsSync(layout)) writeJsonAtomic(layout, { imageLayoutVersion: '1.0.0' });
    if (!fs.existsSync(this.indexFile)) writeJsonAtomic(this.indexFile, { schemaVersion: 2, mediaType: MEDIA.index, manifests: [] });
  }

  // The top lower layer of every container: mount points for /proc, /sys,
  // /dev and the files Berth bind-mounts into /etc, so images that lack them
  // (a FROM scratch busybox) still run, and `diff` never shows them.
  ensureInitLayer(): string {
    const dir = this.paths.initLayer;
    if (fs.existsSync(path.join(dir, 'etc', 'resolv.conf'))) return dir;
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const d of ['proc', 'sys', 'dev', 'etc']) fs.mkdirSync(path.join(tmp, d), { recursive: true, mode: 0o755 });
    for (const f of ['hostname', 'hosts', 'resolv.conf']) fs.writeFileSync(path.join(tmp, 'etc', f), '');
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process made it first
    }
    return dir;
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
    const file = this.blobPath(digest);
    if (!fs.existsSync(file)) writeFileAtomic(file, buf);
    return { mediaType: '', digest, size: buf.length };
  }

  list(): Image[] {
    const byManifest = new Map<string, Image>();
    for (const d of this.readIndex().manifests) {
      const ref = d.annotations?.[REF_ANNOTATION];
      let img = byManifest.get(d.digest);
      if (!img) {
        img = this.load(d.digest);
        byManifest.set(d.digest, img);
      }
      if (ref) img.refs.push(ref);
    }
    return [...byManifest.values()];
  }

  private load(manifestDigest: string): Image {
    const manifest = this.readBlobJson<ImageManifest>(manifestDigest);
    const config = this.readBlobJson<ImageConfig>(manifest.config.digest);
    return {
      id: manifest.config.digest,
      refs: [],
      manifestDigest,
      config,
      chainIds: chainIds(config.rootfs.diff_ids),
      size: manifest.layers.reduce((n, l) => n + l.size, 0),
    };
  }

  // Finds an image by reference ("busybox", "busybox:latest") or by ID prefix.
  resolve(nameOrId: string): Image {
    const images = this.list();
    const idHex = nameOrId.replace(/^sha256:/, '');
    if (/^[a-f0-9]{4,64}$/.test(idHex)) {
      const byId = images.filter((i) => hexOf(i.id).startsWith(idHex));
      if (byId.length === 1) return byId[0];
    }
    const ref = formatReference(parseReference(nameOrId));
    const found = images.find((i) => i.refs.includes(ref));
    if (!found) {
      throw new NotFoundError(`Unable to find image '${ref}' locally; import it with \`berth import TARBALL ${ref}\`, or list images with \`berth images\``, 125);
    }
    return found;
  }

  // Records config + layers as a manifest and points ref at it.
  commitImage(config: ImageConfig, layers: Descriptor[], ref?: string): Image {
    const cfg = this.putBlob(JSON.stringify(config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: cfg.digest, size: cfg.size },
      layers,
    };
    const man = this.putBlob(JSON.stringify(manifest));
    if (ref) this.tag(man.digest, man.size, ref);
    const img = this.load(man.digest);
    img.refs = ref ? [ref] : [];
    return img;
  }

  tag(manifestDigest: string, size: number, refText: string): void {
    const ref = formatReference(parseReference(refText));
    withLock(this.lockFile, () => {
      const index = this.readIndex();
      index.manifests = index.manifests.filter((m) => m.annotations?.[REF_ANNOTATION] !== ref);
      index.manifests.push({
        mediaType: MEDIA.manifest,
        digest: manifestDigest,
        size,
        annotations: { [REF_ANNOTATION]: ref, [OCI_REF_ANNOTATION]: ref.slice(ref.lastIndexOf(':') + 1) },
      });
      writeJsonAtomic(this.indexFile, index);
    });
  }

  // Unpacks a layer blob into its snapshot once; later callers reuse it.
  async ensureSnapshot(chainId: string, layerDigest: string): Promise<string> {
    const dir = this.snapshotDir(chainId);
    if (fs.existsSync(dir)) return dir;
    const staging = path.join(this.paths.tmp, `snapshot-${hexOf(chainId).slice(0, 12)}-${process.pid}-${Date.now()}`);
    try {
      await unpackLayer(this.blobPath(layerDigest), staging);
      fs.mkdirSync(this.paths.snapshots, { recursive: true });
      try {
        fs.renameSync(staging, dir);
      } catch (e) {
        if (!fs.existsSync(dir)) throw e; // else another process won the race
      }
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
    return dir;
  }
}

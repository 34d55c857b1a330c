// Layers unpacked once into snapshot directories keyed by chain ID, shared
// by every container of every image that has the layer, and the init layer
// that sits on top of each container's stack.
import * as fs from 'fs';
import * as path from 'path';
import { StorePaths } from '../store/paths';
import { hexOf, sha256 } from './digest';
import { MEDIA } from './media';
import { Descriptor } from './types';
import { NotFoundError } from '../errors';
import { unpackLayerBlob } from './unpack';
import { ensureOwnTmp, hold } from '../store/leases';
import type { LayerBlob } from './store';

export class Snapshotter {
  constructor(private readonly paths: StorePaths, private readonly blobPath: (digest: string) => string, private readonly layerBlob: (diffId: string) => LayerBlob | undefined) {}

  snapshotDir(chainId: string): string {
    return path.join(this.paths.snapshots, hexOf(chainId));
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

  // Stores a layer tarball (already written to a temp file) as a blob under
  // its diff ID and makes its snapshot; returns the layer's descriptor.
  async addLayer(tarFile: string, diffId: string, size: number, parentChain: string | undefined): Promise<{ descriptor: Descriptor; chainId: string }> {
    const blob = this.blobPath(diffId);
    hold(diffId, parentChain ? sha256(`${parentChain} ${diffId}`) : diffId);
    if (!fs.existsSync(blob)) fs.renameSync(tarFile, blob);
    else fs.rmSync(tarFile, { force: true });
    const chainId = parentChain ? sha256(`${parentChain} ${diffId}`) : diffId;
    await this.ensureSnapshot(chainId, diffId);
    return { descriptor: { mediaType: MEDIA.layerTar, digest: diffId, size }, chainId };
  }

  // Like addLayer, for a layer whose files already lie in dir exactly as the
  // snapshot must hold them (a RUN step's upper dir): dir becomes the
  // snapshot by rename instead of being unpacked again from the tarball.
  async addLayerFromDir(dir: string, tarFile: string, diffId: string, size: number, parentChain: string | undefined): Promise<{ descriptor: Descriptor; chainId: string }> {
    this.adoptDir(dir, diffId, size, parentChain);
    return this.addLayer(tarFile, diffId, size, parentChain);
  }

  // dir becomes the layer's snapshot by rename (a pulled layer, unpacked as
  // it arrived); its bytes are kept by the caller.
  adoptDir(dir: string, diffId: string, size: number, parentChain: string | undefined): { descriptor: Descriptor; chainId: string } {
    const chainId = parentChain ? sha256(`${parentChain} ${diffId}`) : diffId;
    hold(diffId, chainId);
    const snap = this.snapshotDir(chainId);
    if (!fs.existsSync(snap)) {
      fs.mkdirSync(this.paths.snapshots, { recursive: true });
      try {
        fs.renameSync(dir, snap);
      } catch (e) {
        if (!fs.existsSync(snap)) throw e;
      }
    }
    return { descriptor: { mediaType: MEDIA.layerTar, digest: diffId, size }, chainId };
  }

  // Unpacks a layer blob into its snapshot once; later callers reuse it.
  // A snapshot is whole once it is in snapshots/ at all: it is made in this
  // process's tmp and renamed in, and deleted by being renamed out (trash).
  async ensureSnapshot(chainId: string, diffId: string): Promise<string> {
    hold(chainId, diffId);
    const dir = this.snapshotDir(chainId);
    if (fs.existsSync(dir)) return dir;
    const blob = this.layerBlob(diffId);
    if (!blob) throw new NotFoundError(`layer ${diffId.slice(0, 19)} is missing from the store; remove the image (berth rmi) and pull or build it again`);
    const staging = path.join(ensureOwnTmp(this.paths), `snapshot-${hexOf(chainId).slice(0, 12)}-${Date.now()}`);
    try {
      await unpackLayerBlob(blob, staging);
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

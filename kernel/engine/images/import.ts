// `import`: a root filesystem tarball (plain or gzip) becomes a one-layer
// image, as `docker import` makes it. The layer is stored uncompressed under
// its diff ID and unpacked once into its snapshot.
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { BerthError } from '../errors';
import { MEDIA, ImageStore } from './store';
import { ContainerDefaults, Image, ImageConfig } from './types';
import { applyChanges } from '../build/metadata';
import { chainIds, hashingTap } from './digest';
import { compressionOfFile, decompressors } from './decompress';

export interface ImportRequest {
  source: string; // a file path, or "-" for input
  input?: NodeJS.ReadableStream; // the bytes of "-", from the front end
  ref?: string;
  message?: string;
  changes?: string[]; // Dockerfile lines: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL
}

export async function importImage(store: ImageStore, req: ImportRequest): Promise<Image> {
  const defaults: ContainerDefaults = {};
  applyChanges(defaults, req.changes ?? []);
  store.ensureLayout();
  const stamp = `${process.pid}-${Date.now()}`;
  let source = req.source;
  const spooled = path.join(store.paths.tmp, `import-${stamp}.in`);
  const tmp = path.join(store.paths.tmp, `import-${stamp}.tar`);
  try {
    if (source === '-') {
      if (!req.input) throw new BerthError('import - reads the tarball from stdin, and there is none here: give the path of the tarball');
      await pipeline(req.input, fs.createWriteStream(spooled));
      source = spooled;
    } else if (!fs.existsSync(source)) {
      throw new BerthError(`open ${source}: no such file or directory; give the path of a root filesystem tarball`, 'not-found');
    }
    const tap = hashingTap();
    const stages: NodeJS.ReadWriteStream[] = [...decompressors(compressionOfFile(source)), tap.stream];
    try {
      await pipeline([fs.createReadStream(source), ...stages, fs.createWriteStream(tmp)]);
    } catch (e) {
      throw new BerthError(`${req.source} could not be read as a tarball: ${(e as Error).message}`);
    }
    const size = tap.size();
    if (size === 0) throw new BerthError(`${req.source} is empty; give a root filesystem tarball`);
    const diffId = tap.digest();
    const blob = store.blobPath(diffId);
    if (!fs.existsSync(blob)) fs.renameSync(tmp, blob);
    const [chainId] = chainIds([diffId]);
    try {
      await store.snapshots.ensureSnapshot(chainId, diffId);
    } catch (e) {
      if (!fs.existsSync(store.snapshots.snapshotDir(chainId))) fs.rmSync(blob, { force: true });
      throw e;
    }
    const created = new Date().toISOString();
    const config: ImageConfig = {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      created,
      config: defaults,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, created_by: '', comment: req.message || `Imported from ${req.source === '-' ? '-' : path.basename(req.source)}` }],
    };
    return store.commitImage(config, [{ mediaType: MEDIA.layerTar, digest: diffId, size }], req.ref);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(spooled, { force: true });
  }
}

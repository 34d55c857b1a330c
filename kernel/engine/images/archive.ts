// save and load. One archive is both an OCI image layout (oci-layout,
// index.json, blobs/sha256) and a docker-archive (manifest.json), as docker
// 25 writes it, so readers of either format take it. load reads both.
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import * as tar from 'tar-stream';
import { BerthError, checkAborted } from '../errors';
import { ensureOwnTmp } from '../store/leases';
import { hashingTap, hexOf } from './digest';
import { formatReference, parseReference } from './reference';
import { MEDIA, ImageStore } from './store';
import { Descriptor, Image, ImageConfig, ImageManifest } from './types';
import { compressionOfFile, decompressors } from './decompress';

export async function saveImages(store: ImageStore, images: Array<{ image: Image; refs: string[] }>, out: NodeJS.WritableStream): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const entry = (name: string, body: Buffer | string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())));
  const streamEntry = (name: string, size: number, stages: NodeJS.ReadableStream[]) =>
    new Promise<void>((resolve, reject) => {
      const e = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      pipeline([...stages, e] as never).catch(reject);
    });
  const written = new Set<string>();
  const blob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const name = `blobs/sha256/${hexOf(digest)}`;
    const kept = store.layerBlob(digest);
    if (kept?.compression) {
      // A pulled layer is kept compressed; the archive holds its tar, as
      // the manifest says, decoded on the way out.
      const size = store.layerSources.all()[digest]?.unpackedSize;
      if (size === undefined) throw new BerthError(`layer ${digest.slice(0, 19)} has no recorded size; pull the image again before saving it`);
      return streamEntry(name, size, [fs.createReadStream(kept.file), ...(decompressors(kept.compression) as NodeJS.ReadableStream[])]);
    }
    const file = store.blobPath(digest);
    if (!fs.existsSync(file)) throw new BerthError(`blob ${digest.slice(0, 19)} is missing from the store; pull or build the image again`);
    await streamEntry(name, fs.statSync(file).size, [fs.createReadStream(file)]);
  };
  const index: { schemaVersion: 2; mediaType: string; manifests: Descriptor[] } = { schemaVersion: 2, mediaType: MEDIA.index, manifests: [] };
  const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  await entry('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const { image, refs } of images) {
    await blob(image.manifestDigest);
    await blob(image.id);
    for (const l of image.layers) await blob(l.digest);
    const size = fs.statSync(store.blobPath(image.manifestDigest)).size;
    for (const ref of refs.length ? refs : [undefined]) {
      index.manifests.push({ mediaType: MEDIA.manifest, digest: image.manifestDigest, size, annotations: ref ? { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.slice(ref.lastIndexOf(':') + 1) } : {} });
    }
    dockerManifest.push({ Config: `blobs/sha256/${hexOf(image.id)}`, RepoTags: refs, Layers: image.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`) });
    for (const r of refs) {
      const colon = r.lastIndexOf(':');
      repositories[r.slice(0, colon)] = { ...(repositories[r.slice(0, colon)] ?? {}), [r.slice(colon + 1)]: hexOf(image.layers[image.layers.length - 1]?.digest ?? image.id) };
    }
  }
  await entry('index.json', JSON.stringify(index));
  await entry('manifest.json', JSON.stringify(dockerManifest));
  await entry('repositories', JSON.stringify(repositories));
  pack.finalize();
  await done;
}

interface Unpacked {
  dir: string;
  file(name: string): string; // path of an archive member
  has(name: string): boolean;
}

async function unpackArchive(store: ImageStore, input: NodeJS.ReadableStream, signal?: AbortSignal): Promise<Unpacked> {
  const dir = path.join(ensureOwnTmp(store.paths), `load-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  const names = new Map<string, string>();
  const extract = tar.extract();
  let n = 0;
  const done = pipeline(input, extract, { signal });
  try {
    for await (const e of extract) {
      const name = path.posix.normalize(e.header.name).replace(/^\.?\/+/, '');
      if (e.header.type !== 'file' || name.startsWith('..')) {
        e.resume();
        continue;
      }
      const local = path.join(dir, `m${n++}`);
      await pipeline(e, fs.createWriteStream(local));
      names.set(name, local);
    }
    await done;
  } catch (e) {
    // A tar cut off mid-member ends here: nothing is loaded, nothing stays.
    await done.catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    checkAborted(signal, 'the load');
    throw new BerthError(`the archive could not be read (${(e as Error).message}): it is truncated or not a tar archive; save or download it again`);
  }
  return {
    dir,
    has: (name) => names.has(path.posix.normalize(name).replace(/^\.?\/+/, '')),
    file: (name) => {
      const f = names.get(path.posix.normalize(name).replace(/^\.?\/+/, ''));
      if (!f) throw new BerthError(`the archive lacks ${name}; it is not a docker-archive or oci-archive`);
      return f;
    },
  };
}

// Stores one layer member, decompressing gzip, and checks it against the
// config's diff ID.
async function storeLayer(store: ImageStore, file: string, expectDiffId: string, parentChain: string | undefined, expectBlob?: string): Promise<{ descriptor: Descriptor; chainId: string }> {
  if (expectBlob) {
    // An OCI descriptor names the blob as stored (maybe compressed): check it too.
    const raw = hashingTap();
    await pipeline(fs.createReadStream(file), raw.stream, async function* (src: AsyncIterable<unknown>) {
      for await (const _ of src) void _;
    });
    if (raw.digest() !== expectBlob) throw new BerthError(`blob ${expectBlob.slice(0, 19)} does not match its digest (got ${raw.digest().slice(0, 19)}): the archive is corrupt; nothing was loaded`);
  }
  const tap = hashingTap();
  const tmp = `${file}.layer`;
  await pipeline([fs.createReadStream(file), ...decompressors(compressionOfFile(file)), tap.stream, fs.createWriteStream(tmp)]);
  if (tap.digest() !== expectDiffId) {
    throw new BerthError(`layer ${expectDiffId.slice(0, 19)} does not match its content (got ${tap.digest().slice(0, 19)}): the archive is corrupt; nothing was loaded`);
  }
  return store.snapshots.addLayer(tmp, tap.digest(), tap.size(), parentChain);
}

export async function loadImages(store: ImageStore, input: NodeJS.ReadableStream, signal?: AbortSignal): Promise<Image[]> {
  store.ensureLayout();
  const a = await unpackArchive(store, input, signal);
  try {
    const plans: Array<{ config: ImageConfig; layerFiles: string[]; refs: string[]; blobDigests?: string[] }> = [];
    if (a.has('manifest.json')) {
      for (const m of JSON.parse(fs.readFileSync(a.file('manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags?: string[]; Layers: string[] }>) {
        plans.push({ config: JSON.parse(fs.readFileSync(a.file(m.Config), 'utf8')), layerFiles: m.Layers.map((l) => a.file(l)), refs: m.RepoTags ?? [] });
      }
    } else if (a.has('index.json')) {
      const index = JSON.parse(fs.readFileSync(a.file('index.json'), 'utf8')) as { manifests: Descriptor[] };
      for (const d of index.manifests) {
        const manifest = JSON.parse(fs.readFileSync(a.file(`blobs/sha256/${hexOf(d.digest)}`), 'utf8')) as ImageManifest;
        const ref = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
        plans.push({
          config: JSON.parse(fs.readFileSync(a.file(`blobs/sha256/${hexOf(manifest.config.digest)}`), 'utf8')),
          layerFiles: manifest.layers.map((l) => a.file(`blobs/sha256/${hexOf(l.digest)}`)),
          blobDigests: manifest.layers.map((l) => l.digest),
          // A bare OCI ref name ("v1") is taken as an image name ("v1:latest").
          refs: ref ? [ref] : [],
        });
      }
    } else {
      throw new BerthError('this is neither a docker-archive (manifest.json) nor an oci-archive (index.json); make it with `berth save` or `docker save`');
    }
    const loaded: Image[] = [];
    for (const plan of plans) {
      if (plan.layerFiles.length !== plan.config.rootfs.diff_ids.length) throw new BerthError('the archive\'s image config and its layers disagree in number; it is corrupt');
      const layers: Descriptor[] = [];
      let chain: string | undefined;
      for (let i = 0; i < plan.layerFiles.length; i++) {
        checkAborted(signal, 'the load');
        const { descriptor, chainId } = await storeLayer(store, plan.layerFiles[i], plan.config.rootfs.diff_ids[i], chain, plan.blobDigests?.[i]);
        layers.push(descriptor);
        chain = chainId;
      }
      checkAborted(signal, 'the load');
      const refs = plan.refs.map((r) => formatReference(parseReference(r)));
      let img: Image = store.commitImage(plan.config, layers, refs[0]);
      for (const r of refs.slice(1)) img = store.commitImage(plan.config, layers, r);
      img.refs = refs;
      loaded.push(img);
    }
    return loaded;
  } finally {
    fs.rmSync(a.dir, { recursive: true, force: true });
  }
}

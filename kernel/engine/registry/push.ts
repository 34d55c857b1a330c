// push: each layer gzip-compressed (deterministically, so its digest is
// stable), skipped when the registry has it, mounted from another repository
// of the same registry when it came from there, else uploaded (monolithic,
// or chunked above CHUNK); then the config and the manifest.
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { compressor, LAYER_MEDIA, PushCompression } from '../images/compress';
import { compressionOfMediaType, decompressors } from '../images/decompress';
import { hashingTap, sha256 } from '../images/digest';
import { ImageStore } from '../images/store';
import { Image } from '../images/types';
import { RegistryClient, RegistryError } from './client';
import { checkAborted } from '../errors';
import { discard, MAX_SMALL_BODY_BYTES, readBounded } from './http';
import { lookup } from './credentials';
import { registryRef } from './names';

const CHUNK = 8 * 1024 * 1024;
const LAYER_GZIP = LAYER_MEDIA.gzip;

export interface PushOptions {
  signal?: AbortSignal; // the user stopped the push: no manifest is put, so the registry shows no half image
  tlsVerify?: boolean;
  // Layers Berth compresses use it; with force (podman's default when a
  // compression is named), layers kept or known in another one are
  // recompressed too.
  compression?: PushCompression;
  forceCompression?: boolean;
}

export type PushEvent =
  | { type: 'layer'; digest: string; status: 'exists' | 'mounted' | 'pushed'; from?: string }
  | { type: 'done'; tag: string; digest: string; size: number };

async function exists(client: RegistryClient, repo: string, digest: string, scope: string): Promise<boolean> {
  const r = await client.request('HEAD', `/v2/${repo}/blobs/${digest}`, { scope });
  return r.ok;
}

async function upload(client: RegistryClient, repo: string, file: string, digest: string, size: number, scope: string): Promise<void> {
  const start = await client.request('POST', `/v2/${repo}/blobs/uploads/`, { scope });
  if (start.status !== 202) throw new RegistryError(`${client.registry} refused an upload to ${repo}: HTTP ${start.status}${start.status === 401 || start.status === 403 ? '; check `berth login`' : ''}`, 'unavailable');
  let location = new URL(start.headers.get('location') ?? '', client.base).toString();
  if (size > CHUNK) {
    // Chunked: PATCH each range, following the Location the registry returns.
    const fd = fs.openSync(file, 'r');
    try {
      for (let off = 0; off < size; off += CHUNK) {
        const len = Math.min(CHUNK, size - off);
        const buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, off);
        const r = await client.request('PATCH', location, { scope, absolute: true, body: buf, headers: { 'content-type': 'application/octet-stream', 'content-range': `${off}-${off + len - 1}` } });
        if (r.status !== 202) throw new RegistryError(`chunk upload to ${client.registry} failed: HTTP ${r.status}`, 'unavailable');
        location = new URL(r.headers.get('location') ?? location, client.base).toString();
      }
    } finally {
      fs.closeSync(fd);
    }
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const done = await client.request('PUT', url.toString(), { scope, absolute: true, body: Buffer.alloc(0) });
    if (done.status !== 201) throw new RegistryError(`finishing the upload of ${digest.slice(0, 19)} failed: HTTP ${done.status}`, 'unavailable');
    return;
  }
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  const r = await client.request('PUT', url.toString(), { scope, absolute: true, body: fs.readFileSync(file), headers: { 'content-type': 'application/octet-stream' } });
  if (r.status !== 201) throw new RegistryError(`uploading ${digest.slice(0, 19)} failed: HTTP ${r.status}`, 'unavailable');
}

export async function pushImage(store: ImageStore, refText: string, emit: (e: PushEvent) => void = () => undefined, env: NodeJS.ProcessEnv = process.env, opts: PushOptions = {}): Promise<{ digest: string; size: number }> {
  const image: Image = store.resolve(refText);
  const ref = registryRef(refText);
  const client = new RegistryClient(ref.registry, lookup(ref.display, env) ?? lookup(ref.registry, env), env, opts);
  client.signal = opts.signal;
  const scope = `repository:${ref.path}:pull,push`;
  const sources = store.layerSources.all();
  const want = opts.compression ?? 'gzip';
  const force = opts.forceCompression ?? opts.compression !== undefined;
  const fits = (mediaType: string) => !force || (compressionOfMediaType(mediaType) ?? 'none') === want;
  const layers = [];
  for (const l of image.layers) {
    checkAborted(opts.signal, `the push of ${refText}`);
    const known = sources[l.digest];
    if (known && known.registry === ref.registry && fits(known.mediaType)) {
      if (await exists(client, ref.path, known.digest, scope)) {
        emit({ type: 'layer', digest: known.digest, status: 'exists' });
        layers.push({ mediaType: known.mediaType, digest: known.digest, size: known.size });
        continue;
      }
      if (known.repo !== ref.path) {
        const m = await client.request('POST', `/v2/${ref.path}/blobs/uploads/?mount=${encodeURIComponent(known.digest)}&from=${encodeURIComponent(known.repo)}`, { scope: `${scope} repository:${known.repo}:pull` });
        if (m.status === 201) {
          emit({ type: 'layer', digest: known.digest, status: 'mounted', from: known.repo });
          layers.push({ mediaType: known.mediaType, digest: known.digest, size: known.size });
          continue;
        }
        await discard(m);
      }
    }
    // A pulled layer goes up as the blob it came as: no recompression, and
    // the registry sees the digest it may already know.
    const kept = store.layerBlob(l.digest);
    if (!kept) throw new RegistryError(`layer ${l.digest.slice(0, 19)} of ${refText} is missing from the store; pull or build the image again`, 'not-found');
    if (kept.compression && fits(kept.mediaType)) {
      const size = kept.size ?? fs.statSync(kept.file).size;
      if (await exists(client, ref.path, kept.digest, scope)) emit({ type: 'layer', digest: kept.digest, status: 'exists' });
      else {
        await upload(client, ref.path, kept.file, kept.digest, size, scope);
        emit({ type: 'layer', digest: kept.digest, status: 'pushed' });
      }
      layers.push({ mediaType: kept.mediaType, digest: kept.digest, size });
      store.layerSources.record(l.digest, { digest: kept.digest, size, mediaType: kept.mediaType, registry: ref.registry, repo: ref.path });
      continue;
    }
    // Compressed here, deterministically: the same layer gets the same bytes
    // every time. A layer kept only compressed is decoded first, and the
    // new blob is kept in place of the old (the record points at it).
    const tmp = path.join(store.paths.tmp, `push-${l.digest.slice(7, 19)}-${process.pid}.${want}`);
    fs.mkdirSync(store.paths.tmp, { recursive: true });
    const tap = hashingTap();
    try {
      await pipeline([fs.createReadStream(kept.file), ...decompressors(kept.compression), compressor(want), tap.stream, fs.createWriteStream(tmp)]);
      const digest = tap.digest();
      const size = tap.size();
      if (await exists(client, ref.path, digest, scope)) emit({ type: 'layer', digest, status: 'exists' });
      else {
        await upload(client, ref.path, tmp, digest, size, scope);
        emit({ type: 'layer', digest, status: 'pushed' });
      }
      layers.push({ mediaType: LAYER_MEDIA[want], digest, size });
      if (kept.compression && !fs.existsSync(store.blobPath(digest))) fs.renameSync(tmp, store.blobPath(digest));
      store.layerSources.record(l.digest, { digest, size, mediaType: LAYER_MEDIA[want], registry: ref.registry, repo: ref.path, unpackedSize: l.size });
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const configFile = store.blobPath(image.id);
  const configSize = fs.statSync(configFile).size;
  if (!(await exists(client, ref.path, image.id, scope))) await upload(client, ref.path, configFile, image.id, configSize, scope);
  // Docker's manifest unless a layer goes up as OCI alone has it (zstd):
  // then OCI's, with docker's gzip layers named by their OCI type.
  const oci = layers.some((l) => l.mediaType.startsWith('application/vnd.oci.'));
  const manifestType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json', size: configSize, digest: image.id },
    layers: oci ? layers.map((l) => (l.mediaType === LAYER_GZIP ? { ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' } : l)) : layers,
  }));
  checkAborted(opts.signal, `the push of ${refText}`);
  const r = await client.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, { scope, body: manifest, headers: { 'content-type': manifestType } });
  if (r.status !== 201) throw new RegistryError(`${client.registry} refused the manifest: HTTP ${r.status} ${(await readBounded(r, MAX_SMALL_BODY_BYTES).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 200)}`, 'unavailable');
  const digest = sha256(manifest);
  store.setRepoDigest(image.manifestDigest, `${ref.familiar.slice(0, ref.familiar.lastIndexOf(':'))}@${digest}`);
  emit({ type: 'done', tag: ref.tag, digest, size: manifest.length });
  return { digest, size: manifest.length };
}

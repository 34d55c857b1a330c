// pull: image index or manifest list (platform chosen), OCI or Docker v2
// manifests, every blob checked against its digest, gzip layers decompressed
// on the way in and checked against their diff IDs, several at once, layers
// already here skipped. Nothing half-written stays: a failed layer leaves
// no blob and no snapshot, and a retried pull only fetches what is missing.
import * as fs from 'fs';
import * as path from 'path';
import { Readable, Writable } from 'stream';
import { finished, pipeline } from 'stream/promises';
import { chainIds, hashingTap, sha256 } from '../images/digest';
import { compressionOfMediaType, decompressors } from '../images/decompress';
import { unpackingSink } from '../images/unpack';
import { ImageStore } from '../images/store';
import { Descriptor, Image, ImageConfig } from '../images/types';
import { RegistryClient, RegistryError } from './client';
import { BerthError } from '../errors';
import { lookup } from './credentials';
import { pullEndpoints } from './mirrors';
import { registryRef } from './names';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export type PullEvent =
  | { type: 'resolved'; digest: string }
  | { type: 'layer'; digest: string; status: 'exists' | 'downloading' | 'done'; done?: number; total?: number }
  | { type: 'done'; image: Image; digest: string; upToDate: boolean }
  | { type: 'note'; text: string }; // something the user should know (a mirror passed over)

export interface PullRequest {
  ref: string;
  platform?: string; // "linux/amd64"
  tlsVerify?: boolean; // false: --tls-verify=false
}

interface Manifest {
  mediaType?: string;
  manifests?: Array<Descriptor & { platform?: { os: string; architecture: string; variant?: string } }>;
  config?: Descriptor;
  layers?: Descriptor[];
}

async function getManifest(client: RegistryClient, repo: string, reference: string, scope: string): Promise<{ body: Buffer; digest: string; manifest: Manifest }> {
  const r = await client.request('GET', `/v2/${repo}/manifests/${reference}`, { scope, headers: { accept: ACCEPT } });
  if (r.status === 404) throw new RegistryError(`manifest for ${repo}:${reference} not found on ${client.registry}; check the name and tag`, 'not-found');
  if (!r.ok) throw new RegistryError(`${client.registry} answered HTTP ${r.status} for ${repo}:${reference}`, 'unavailable');
  const body = Buffer.from(await r.arrayBuffer());
  const digest = sha256(body);
  const claimed = r.headers.get('docker-content-digest');
  if ((reference.startsWith('sha256:') && digest !== reference) || (claimed && claimed !== digest)) {
    throw new RegistryError(`manifest digest mismatch for ${repo}:${reference} (got ${digest}); refusing it`);
  }
  return { body, digest, manifest: JSON.parse(body.toString('utf8')) as Manifest };
}

// Writes each chunk to both streams, taking the next only when both took it,
// and ends both; fails when either does.
function tee(a: NodeJS.WritableStream, b: NodeJS.WritableStream): Writable {
  const write = (s: NodeJS.WritableStream, chunk: Buffer) => new Promise<void>((res, rej) => void s.write(chunk, (e?: Error | null) => (e ? rej(e) : res())));
  const finish = (s: NodeJS.WritableStream) => finished(s as Writable).then(() => undefined);
  for (const s of [a, b]) s.on('error', () => undefined); // reported through write() and finish()
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      Promise.all([write(a, chunk), write(b, chunk)]).then(() => cb(), cb);
    },
    final(cb) {
      a.end();
      b.end();
      Promise.all([finish(a), finish(b)]).then(() => cb(), cb);
    },
    destroy(err, cb) {
      for (const s of [a, b]) (s as Writable).destroy();
      cb(err);
    },
  });
}

// Mirrors first (registries.yaml), then the registry itself. A mirror that
// fails at any point is noted and passed over; what it already gave (whole
// layers, checked against their digests) stays, so the next endpoint only
// fetches the rest.
export async function pullImage(store: ImageStore, req: PullRequest, emit: (e: PullEvent) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): Promise<Image> {
  const ref = registryRef(req.ref);
  const endpoints = pullEndpoints(ref.registry, env);
  for (const ep of endpoints) {
    const host = ep.mirror ? ep.location : ref.registry;
    try {
      const creds = ep.mirror ? lookup(host, env) : lookup(ref.display, env) ?? lookup(ref.registry, env);
      const client = new RegistryClient(host, creds, env, { tlsVerify: req.tlsVerify, insecure: ep.insecure });
      return await pullFrom(client, store, req, emit);
    } catch (e) {
      if (!ep.mirror || !(e instanceof BerthError)) throw e;
      emit({ type: 'note', text: `the mirror ${ep.location} failed (${e.message}); pulling from ${ref.display} instead` });
    }
  }
  throw new RegistryError(`no registry to pull ${req.ref} from`);
}

async function pullFrom(client: RegistryClient, store: ImageStore, req: PullRequest, emit: (e: PullEvent) => void): Promise<Image> {
  const ref = registryRef(req.ref);
  const scope = `repository:${ref.path}:pull`;
  store.ensureLayout();
  let { body, digest, manifest } = await getManifest(client, ref.path, ref.digest ?? ref.tag, scope);
  if (manifest.manifests) {
    const [os, arch] = (req.platform ?? `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`).split('/');
    const pick = manifest.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch);
    if (!pick) {
      const have = manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
      throw new RegistryError(`no ${os}/${arch} image in ${req.ref} (it has ${have}); choose one with --platform`);
    }
    ({ body, digest, manifest } = await getManifest(client, ref.path, pick.digest, scope));
  }
  void body;
  emit({ type: 'resolved', digest });
  if (!manifest.config || !manifest.layers) throw new RegistryError(`${req.ref} has a manifest Berth cannot read (schema 1?)`);
  const cfgResp = await client.request('GET', `/v2/${ref.path}/blobs/${manifest.config.digest}`, { scope });
  if (!cfgResp.ok) throw new RegistryError(`cannot fetch the config of ${req.ref}: HTTP ${cfgResp.status}`);
  const configBytes = Buffer.from(await cfgResp.arrayBuffer());
  if (sha256(configBytes) !== manifest.config.digest) throw new RegistryError(`config blob of ${req.ref} does not match its digest; refusing it`);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) throw new RegistryError(`${req.ref}: manifest and config disagree on the number of layers`);
  const chains = chainIds(diffIds);
  const layers: Descriptor[] = new Array(diffIds.length);
  fs.mkdirSync(store.paths.tmp, { recursive: true });
  const fetchLayer = async (i: number) => {
    const desc = manifest.layers![i];
    const diffId = diffIds[i];
    if (fs.existsSync(store.blobPath(diffId)) && fs.existsSync(store.snapshots.snapshotDir(chains[i]))) {
      layers[i] = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: fs.statSync(store.blobPath(diffId)).size };
      emit({ type: 'layer', digest: desc.digest, status: 'exists' });
      return;
    }
    const r = await client.request('GET', `/v2/${ref.path}/blobs/${desc.digest}`, { scope });
    if (!r.ok || !r.body) throw new RegistryError(`cannot fetch layer ${desc.digest.slice(0, 19)}: HTTP ${r.status}`, 'unavailable');
    const tmp = path.join(store.paths.tmp, `pull-${diffId.slice(7, 19)}-${process.pid}-${Date.now()}.tar`);
    const compressed = hashingTap();
    const plain = hashingTap();
    let seen = 0;
    compressed.stream.on('data', (c: Buffer) => {
      seen += c.length;
      emit({ type: 'layer', digest: desc.digest, status: 'downloading', done: seen, total: desc.size });
    });
    // One pass: the decoded tar goes to its blob file and, through a pipe,
    // to the extractor at once, so the layer is unpacked as it arrives.
    const staging = path.join(store.paths.tmp, `snapshot-pull-${diffId.slice(7, 19)}-${process.pid}-${Date.now()}`);
    const discard = () => {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(staging, { recursive: true, force: true });
    };
    const unpack = unpackingSink(desc.digest.slice(7, 19), staging);
    const [streamed, unpacked] = await Promise.allSettled([
      pipeline([Readable.fromWeb(r.body as never), compressed.stream, ...decompressors(compressionOfMediaType(desc.mediaType)), plain.stream, tee(fs.createWriteStream(tmp), unpack.sink)]),
      unpack.done,
    ]);
    // The extractor's refusal says more than the broken pipe it leaves; a
    // download that failed says more than the truncated layer it leaves.
    const streamErr = streamed.status === 'rejected' ? (streamed.reason as NodeJS.ErrnoException) : undefined;
    const unpackErr = unpacked.status === 'rejected' ? (unpacked.reason as Error) : undefined;
    const brokenPipe = /^(EPIPE|ERR_STREAM_DESTROYED|ERR_STREAM_PREMATURE_CLOSE)$/.test(streamErr?.code ?? '');
    const failed = streamErr && !brokenPipe ? streamErr : unpackErr ?? streamErr;
    if (failed) {
      discard();
      throw new RegistryError(`layer ${desc.digest.slice(0, 19)} could not be read: ${(failed as Error).message}; nothing of it was kept`);
    }
    // Checked after the unpack, which a bad digest then throws away.
    if (compressed.digest() !== desc.digest || plain.digest() !== diffId) {
      discard();
      throw new RegistryError(`layer ${desc.digest.slice(0, 19)} does not match its digest (got ${compressed.digest().slice(0, 19)}); refusing it, nothing of it was kept`);
    }
    let descriptor: Descriptor;
    try {
      ({ descriptor } = await store.snapshots.addLayerFromDir(staging, tmp, diffId, plain.size(), i === 0 ? undefined : chains[i - 1]));
    } finally {
      fs.rmSync(staging, { recursive: true, force: true }); // left only when another pull made the snapshot first
    }
    layers[i] = descriptor;
    store.layerSources.record(diffId, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry: ref.registry, repo: ref.path });
    emit({ type: 'layer', digest: desc.digest, status: 'done' });
  };
  // Three layers at a time, as docker does.
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(3, diffIds.length) }, async () => {
    while (next < diffIds.length) await fetchLayer(next++);
  }));
  const repo = ref.familiar.slice(0, ref.familiar.lastIndexOf(':'));
  let before: string | undefined;
  let knewDigest = false;
  try {
    before = store.resolve(ref.digest ? `${repo}@${ref.digest}` : ref.familiar).manifestDigest;
    knewDigest = store.repoDigests(before).includes(`${repo}@${digest}`);
  } catch {
    /* not here yet */
  }
  // Pulled by digest: no tag, as docker keeps it; found again by repo@digest.
  const image = store.commitRawConfig(configBytes, layers, ref.digest ? undefined : ref.familiar);
  const upToDate = before === image.manifestDigest && knewDigest;
  store.setRepoDigest(image.manifestDigest, `${repo}@${digest}`);
  emit({ type: 'done', image, digest, upToDate });
  return image;
}

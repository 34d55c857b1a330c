// pull: image index or manifest list (platform chosen), OCI or Docker v2
// manifests, every blob checked against its digest, gzip and zstd layers
// decoded on the way into the extractor and checked against their diff IDs,
// several at once, layers already here skipped. The registry's compressed
// blob is what the store keeps. A layer that fails its checks leaves no
// blob and no snapshot; one cut off mid-download leaves only its bytes so
// far, which the next pull resumes from with an HTTP Range.
import * as fs from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import { chainIds, hashingTap, hexOf, sha256 } from '../images/digest';
import { compressionOfMediaType, decompressors } from '../images/decompress';
import { unpackStream } from '../images/unpack';
import { ImageStore, LayerBlob } from '../images/store';
import { Descriptor, Image, ImageConfig } from '../images/types';
import { readRegistryBody, RegistryClient, RegistryError } from './client';
import { causeOf, discard, MAX_MANIFEST_BYTES } from './http';
import { during, ensureOwnTmp, hold, pidAlive } from '../store/leases';
import { BerthError, CancelledError, checkAborted } from '../errors';
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
  signal?: AbortSignal; // the user stopped the pull: what is whole stays, nothing half-made does
}

interface Manifest {
  mediaType?: string;
  manifests?: Array<Descriptor & { platform?: { os: string; architecture: string; variant?: string } }>;
  config?: Descriptor;
  layers?: Descriptor[];
}

async function getManifest(client: RegistryClient, repo: string, reference: string, scope: string, signal?: AbortSignal): Promise<{ body: Buffer; digest: string; manifest: Manifest }> {
  const r = await client.request('GET', `/v2/${repo}/manifests/${reference}`, { scope, headers: { accept: ACCEPT }, signal });
  if (r.status === 404) throw new RegistryError(`manifest for ${repo}:${reference} not found on ${client.registry}; check the name and tag`, 'not-found');
  if (!r.ok) throw new RegistryError(`${client.registry} answered HTTP ${r.status} for ${repo}:${reference}`, 'unavailable');
  const body = await readRegistryBody(r, client.registry, `the manifest of ${repo}:${reference}`, MAX_MANIFEST_BYTES);
  const digest = sha256(body);
  const claimed = r.headers.get('docker-content-digest');
  if ((reference.startsWith('sha256:') && digest !== reference) || (claimed && claimed !== digest)) {
    throw new RegistryError(`manifest digest mismatch for ${repo}:${reference} (got ${digest}); refusing it`);
  }
  return { body, digest, manifest: JSON.parse(body.toString('utf8')) as Manifest };
}

// Mirrors first (registries.yaml), then the registry itself. A mirror that
// fails at any point is noted and passed over; what it already gave (whole
// layers, checked against their digests) stays, so the next endpoint only
// fetches the rest.
export function pullImage(store: ImageStore, req: PullRequest, emit: (e: PullEvent) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): Promise<Image> {
  return during(store.paths, `pull ${req.ref}`, () => pullEndpointsInTurn(store, req, emit, env));
}

async function pullEndpointsInTurn(store: ImageStore, req: PullRequest, emit: (e: PullEvent) => void, env: NodeJS.ProcessEnv): Promise<Image> {
  const ref = registryRef(req.ref);
  const endpoints = pullEndpoints(ref.registry, env);
  for (const ep of endpoints) {
    const host = ep.mirror ? ep.location : ref.registry;
    try {
      const creds = ep.mirror ? lookup(host, env) : lookup(ref.display, env) ?? lookup(ref.registry, env);
      const client = new RegistryClient(host, creds, env, { tlsVerify: req.tlsVerify, insecure: ep.insecure });
      return await pullFrom(client, store, req, emit);
    } catch (e) {
      if (!ep.mirror || !(e instanceof BerthError) || e.kind === 'cancelled') throw e;
      emit({ type: 'note', text: `the mirror ${ep.location} failed (${e.message}); pulling from ${ref.display} instead` });
    }
  }
  throw new RegistryError(`no registry to pull ${req.ref} from`);
}

// A layer half-downloaded by an earlier pull waits in tmp under its digest,
// or under the process ID of a pull that was killed mid-way. Taking it is a
// rename, so of two pulls at once only one resumes it; the other starts its
// own file. What dead pulls left of the same layer goes.
function claimPartial(store: ImageStore, digest: string): string {
  const hex = hexOf(digest);
  const dir = store.paths.partials;
  const mine = path.join(dir, `pull-${hex}.${process.pid}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const left: Array<{ file: string; size: number }> = [];
  for (const name of fs.readdirSync(dir)) {
    const m = /^pull-([a-f0-9]+)[.-](partial|(\d+)-\d+)$/.exec(name);
    if (!m || !(hex.startsWith(m[1]) || m[1] === hex) || (m[3] && pidAlive(Number(m[3])))) continue;
    const file = path.join(dir, name);
    left.push({ file, size: fs.statSync(file).size });
  }
  left.sort((a, b) => b.size - a.size);
  for (const [k, l] of left.entries()) {
    try {
      if (k === 0) fs.renameSync(l.file, mine);
      else fs.rmSync(l.file, { force: true });
    } catch {
      /* another pull took it */
    }
  }
  return mine;
}

function releasePartial(store: ImageStore, digest: string, work: string): void {
  if (!fs.existsSync(work)) return;
  const shared = partialPath(store, digest);
  // Keep the longer of two partials.
  if (fs.existsSync(shared) && fs.statSync(shared).size >= fs.statSync(work).size) fs.rmSync(work, { force: true });
  else fs.renameSync(work, shared);
}

function partialPath(store: ImageStore, digest: string): string {
  return path.join(store.paths.partials, `pull-${hexOf(digest)}.partial`);
}

// The unpacked size of a layer already here, for the manifest Berth keeps.
function unpackedSize(store: ImageStore, diffId: string, blob: LayerBlob): number {
  if (!blob.compression) return fs.statSync(blob.file).size;
  return store.layerSources.all()[diffId]?.unpackedSize ?? 0;
}

async function pullFrom(client: RegistryClient, store: ImageStore, req: PullRequest, emit: (e: PullEvent) => void): Promise<Image> {
  const ref = registryRef(req.ref);
  const scope = `repository:${ref.path}:pull`;
  const signal = req.signal;
  store.ensureLayout();
  let { body, digest, manifest } = await getManifest(client, ref.path, ref.digest ?? ref.tag, scope, signal);
  if (manifest.manifests) {
    const [os, arch] = (req.platform ?? `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`).split('/');
    const pick = manifest.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch);
    if (!pick) {
      const have = manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
      throw new RegistryError(`no ${os}/${arch} image in ${req.ref} (it has ${have}); choose one with --platform`);
    }
    ({ body, digest, manifest } = await getManifest(client, ref.path, pick.digest, scope, signal));
  }
  void body;
  emit({ type: 'resolved', digest });
  if (!manifest.config || !manifest.layers) throw new RegistryError(`${req.ref} has a manifest Berth cannot read (schema 1?)`);
  const cfgResp = await client.request('GET', `/v2/${ref.path}/blobs/${manifest.config.digest}`, { scope, signal });
  if (!cfgResp.ok) throw new RegistryError(`cannot fetch the config of ${req.ref}: HTTP ${cfgResp.status}`);
  const configBytes = await readRegistryBody(cfgResp, client.registry, `the config of ${req.ref}`, MAX_MANIFEST_BYTES);
  if (sha256(configBytes) !== manifest.config.digest) throw new RegistryError(`config blob of ${req.ref} does not match its digest; refusing it`);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) throw new RegistryError(`${req.ref}: manifest and config disagree on the number of layers`);
  const chains = chainIds(diffIds);
  const layers: Descriptor[] = new Array(diffIds.length);
  // fresh: a kept partial failed its checks, so this try starts from byte 0.
  const fetchLayer = async (i: number, fresh = false): Promise<void> => {
    const desc = manifest.layers![i];
    const diffId = diffIds[i];
    const chainId = chains[i];
    const kept = store.layerBlob(diffId);
    if (kept) {
      await store.snapshots.ensureSnapshot(chainId, diffId); // from the kept blob, when only the snapshot went
      layers[i] = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: unpackedSize(store, diffId, kept) };
      emit({ type: 'layer', digest: desc.digest, status: 'exists' });
      return;
    }
    const hex = desc.digest.slice(7, 19);
    hold(desc.digest, diffId, chainId); // before any of it exists
    const staging = path.join(ensureOwnTmp(store.paths), `snapshot-pull-${hex}-${Date.now()}`);
    const work = claimPartial(store, desc.digest);
    if (fresh) fs.rmSync(work, { force: true });
    let resumeAt = fs.existsSync(work) ? fs.statSync(work).size : 0;
    // More than the layer is not a layer; all of it needs no request at all:
    // it is checked and committed from the file (a pull killed just before
    // its rename left it so).
    if (resumeAt > desc.size) {
      fs.rmSync(work, { force: true });
      resumeAt = 0;
    }
    const whole = resumeAt > 0 && resumeAt === desc.size;
    let r: Response | undefined;
    if (!whole) {
      try {
        r = await client.request('GET', `/v2/${ref.path}/blobs/${desc.digest}`, { scope, headers: resumeAt ? { range: `bytes=${resumeAt}-` } : {}, signal });
      } catch (e) {
        releasePartial(store, desc.digest, work); // kept for the next try
        throw e;
      }
      if (r.status === 416 && resumeAt) {
        // The registry has no such range: the partial is not of this blob.
        await discard(r);
        fs.rmSync(work, { force: true });
        resumeAt = 0;
        r = await client.request('GET', `/v2/${ref.path}/blobs/${desc.digest}`, { scope, signal });
      }
      if (!r.ok || !r.body) {
        await discard(r);
        releasePartial(store, desc.digest, work);
        throw new RegistryError(`cannot fetch layer ${desc.digest.slice(0, 19)}: HTTP ${r.status}`, 'unavailable');
      }
    }
    // A registry that ignores the range sends the whole blob: start over.
    const resumed = whole || (resumeAt > 0 && r!.status === 206 && (r!.headers.get('content-range') ?? '').startsWith(`bytes ${resumeAt}-`));
    if (!resumed) fs.rmSync(work, { force: true });
    const compressed = hashingTap();
    const plain = hashingTap();
    let seen = 0;
    compressed.stream.on('data', (c: Buffer) => {
      seen += c.length;
      emit({ type: 'layer', digest: desc.digest, status: 'downloading', done: seen, total: desc.size });
    });
    // One pass: the compressed bytes are appended to the blob file as they
    // arrive, and decoded through a pipe into the extractor at once. What a
    // cut-off download left is read back first, then the rest follows.
    let netErr: Error | undefined;
    async function* source(): AsyncGenerator<Buffer> {
      if (resumed) for await (const c of fs.createReadStream(work)) yield c as Buffer;
      if (!r) return;
      const out = await fs.promises.open(work, 'a', 0o600);
      try {
        try {
          for await (const c of Readable.fromWeb(r.body as never)) {
            await out.write(c as Buffer);
            yield c as Buffer;
          }
        } catch (e) {
          netErr = e as Error;
          throw e;
        }
      } finally {
        await out.close();
      }
    }
    const fail = (why: string, keepPartial: boolean): never => {
      fs.rmSync(staging, { recursive: true, force: true });
      if (keepPartial && fs.existsSync(work) && fs.statSync(work).size > 0) releasePartial(store, desc.digest, work);
      else fs.rmSync(work, { force: true });
      throw new RegistryError(why, 'unavailable');
    };
    try {
      await unpackStream(source(), [compressed.stream, ...decompressors(compressionOfMediaType(desc.mediaType)), plain.stream], hex, staging);
    } catch (e) {
      // Stopped by the user: what arrived is kept for the next pull to resume.
      if (signal?.aborted) {
        fs.rmSync(staging, { recursive: true, force: true });
        if (fs.existsSync(work) && fs.statSync(work).size > 0) releasePartial(store, desc.digest, work);
        else fs.rmSync(work, { force: true });
        throw new CancelledError(`the pull of ${req.ref}`);
      }
      // A download cut short keeps what it got, for the next pull to resume.
      if (netErr) fail(`layer ${desc.digest.slice(0, 19)} was cut off after ${seen} of ${desc.size} bytes (${causeOf(netErr).message}); pull again to resume it`, true);
      // A partial kept from before that does not decode is not this layer's
      // beginning: dropped, and the layer fetched whole once more.
      if (resumed && !fresh) {
        fs.rmSync(staging, { recursive: true, force: true });
        fs.rmSync(work, { force: true });
        return fetchLayer(i, true);
      }
      fail(`layer ${desc.digest.slice(0, 19)} could not be read: ${(e as Error).message}; nothing of it was kept`, false);
    }
    // Checked after the unpack, which a bad digest then throws away.
    if ((compressed.digest() !== desc.digest || plain.digest() !== diffId) && resumed && !fresh) {
      fs.rmSync(staging, { recursive: true, force: true });
      fs.rmSync(work, { force: true });
      return fetchLayer(i, true);
    }
    if (compressed.digest() !== desc.digest || plain.digest() !== diffId) {
      fail(`layer ${desc.digest.slice(0, 19)} does not match its digest (got ${compressed.digest().slice(0, 19)}); refusing it, nothing of it was kept`, false);
    }
    const blob = store.blobPath(desc.digest);
    if (!fs.existsSync(blob)) fs.renameSync(work, blob);
    else fs.rmSync(work, { force: true });
    store.layerSources.record(diffId, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry: ref.registry, repo: ref.path, unpackedSize: plain.size() });
    try {
      layers[i] = store.snapshots.adoptDir(staging, diffId, plain.size(), i === 0 ? undefined : chains[i - 1]).descriptor;
    } finally {
      fs.rmSync(staging, { recursive: true, force: true }); // left only when another pull made the snapshot first
    }
    emit({ type: 'layer', digest: desc.digest, status: 'done' });
  };
  // Three layers at a time, as docker does.
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(3, diffIds.length) }, async () => {
    while (next < diffIds.length) {
      checkAborted(signal, `the pull of ${req.ref}`);
      await fetchLayer(next++);
    }
  }));
  checkAborted(signal, `the pull of ${req.ref}`);
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

// Unpacks one layer tarball into a snapshot directory for overlayfs, with
// the native extractor (native/src/common/untar.cc) on a worker thread: it
// matches GNU tar's pace where the tar-stream path did not. Nothing may land
// outside the target: absolute names, "..", writing through a symlink the
// layer made, and hard links to outside are refused. OCI whiteouts become
// overlayfs whiteouts (0:0 char devices and the opaque xattr) because each
// layer is a lower directory of its own.
import * as fs from 'fs';
import { pipeline } from 'stream/promises';
import { BerthError } from '../errors';
import { Compression, decompressors } from './decompress';
import { native } from '../native';
import { isRootless } from '../store/rootless';

export class UnsafeLayerError extends BerthError {}

function unpackProblem(problem: string): BerthError {
  if (/refusing to unpack it|which the layer does not contain|which is not a directory/.test(problem)) return new UnsafeLayerError(problem);
  return new BerthError(problem);
}

// A layer unpacked as it arrives: what is written to sink goes through a
// pipe to the extractor on its worker thread. done settles when the
// extractor has finished (or refused the layer, which also ends the pipe).
export function unpackingSink(name: string, dest: string): { sink: NodeJS.WritableStream; done: Promise<void> } {
  const [readEnd, writeEnd] = native().pipe();
  const done = native().untarFd(readEnd, name, dest, undefined, { rootless: isRootless() }).then((problem) => {
    if (problem) throw unpackProblem(problem);
  });
  // A socket on the pipe: libuv writes it without blocking a thread.
  const { Socket } = require('net') as typeof import('net');
  const sink = new Socket({ fd: writeEnd, readable: false, writable: true });
  return { sink, done };
}

// Streams source through stages into the extractor. When both fail, the
// extractor's refusal says more than the broken pipe it leaves, and a
// source that failed says more than the truncated tar it leaves.
export async function unpackStream(source: NodeJS.ReadableStream | AsyncIterable<Buffer>, stages: NodeJS.ReadWriteStream[], name: string, dest: string): Promise<void> {
  const unpack = unpackingSink(name, dest);
  const [streamed, unpacked] = await Promise.allSettled([pipeline([source as NodeJS.ReadableStream, ...stages, unpack.sink]), unpack.done]);
  const streamErr = streamed.status === 'rejected' ? (streamed.reason as NodeJS.ErrnoException) : undefined;
  const unpackErr = unpacked.status === 'rejected' ? (unpacked.reason as Error) : undefined;
  const brokenPipe = /^(EPIPE|ERR_STREAM_DESTROYED|ERR_STREAM_PREMATURE_CLOSE)$/.test(streamErr?.code ?? '');
  const failed = streamErr && !brokenPipe ? streamErr : unpackErr ?? streamErr;
  if (failed) throw failed;
}

// A layer blob as kept in the store: a plain tar goes to the extractor as a
// file; a compressed one (a pulled layer) is decoded on the way.
export async function unpackLayerBlob(blob: { file: string; compression: Compression }, dest: string): Promise<void> {
  if (!blob.compression) return unpackLayer(blob.file, dest);
  await unpackStream(fs.createReadStream(blob.file), decompressors(blob.compression), hexName(blob.file), dest);
}

function hexName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1, file.lastIndexOf('/') + 13);
}

// onProgress gets (bytes done, bytes in all) every few megabytes.
export async function unpackLayer(tarball: string, dest: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  const total = onProgress ? fs.statSync(tarball).size : 0;
  const problem = await native().untar(tarball, dest, onProgress ? (done) => onProgress(Math.min(done, total), total) : undefined, { rootless: isRootless() });
  onProgress?.(total, total);
  if (problem) throw unpackProblem(problem);
}

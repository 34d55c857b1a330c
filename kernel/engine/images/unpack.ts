// Unpacks one layer tarball into a snapshot directory for overlayfs, with
// the native extractor (native/src/common/untar.cc) on a worker thread: it
// matches GNU tar's pace where the tar-stream path did not. Nothing may land
// outside the target: absolute names, "..", writing through a symlink the
// layer made, and hard links to outside are refused. OCI whiteouts become
// overlayfs whiteouts (0:0 char devices and the opaque xattr) because each
// layer is a lower directory of its own.
import * as fs from 'fs';
import { BerthError } from '../errors';
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

// onProgress gets (bytes done, bytes in all) every few megabytes.
export async function unpackLayer(tarball: string, dest: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  const total = onProgress ? fs.statSync(tarball).size : 0;
  const problem = await native().untar(tarball, dest, onProgress ? (done) => onProgress(Math.min(done, total), total) : undefined, { rootless: isRootless() });
  onProgress?.(total, total);
  if (problem) throw unpackProblem(problem);
}

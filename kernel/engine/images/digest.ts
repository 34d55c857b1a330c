import type { Hash } from 'crypto';
import type { Transform } from 'stream';

// crypto loads on first use: listing containers never hashes anything, and
// its load is a measurable part of a CLI call.
function createHash(algorithm: 'sha256'): Hash {
  return (require('crypto') as typeof import('crypto')).createHash(algorithm);
}

export function sha256(data: string | Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

// Chain IDs name a stack of layers (the OCI image spec's definition):
// the bottom layer's is its diff ID, each next one hashes "parent diffID".
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

// A pass-through stream that hashes and counts what flows through it.
export function hashingTap(): { stream: Transform; digest(): string; size(): number } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new (require('stream') as typeof import('stream')).Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  let digest: string | undefined;
  return { stream, digest: () => (digest ??= `sha256:${hash.digest('hex')}`), size: () => size };
}

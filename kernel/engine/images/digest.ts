import { createHash } from 'crypto';

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

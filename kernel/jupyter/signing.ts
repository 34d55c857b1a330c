// HMAC signing and verification of every message. An empty key means
// messages carry an empty signature and none is checked (as the spec says).
// Signatures seen before are refused, so a captured message cannot be replayed.
import { createHmac, timingSafeEqual } from 'crypto';

export class Signer {
  private seen = new Set<string>();
  private order: string[] = [];

  constructor(private readonly key: string, scheme = 'hmac-sha256') {
    if (key && scheme !== 'hmac-sha256') throw new Error(`unsupported signature scheme ${scheme}; use hmac-sha256`);
  }

  sign(parts: Buffer[]): string {
    if (!this.key) return '';
    const h = createHmac('sha256', this.key);
    for (const p of parts) h.update(p);
    return h.digest('hex');
  }

  // Constant-time comparison; false for a bad or replayed signature.
  verify(signature: string, parts: Buffer[]): boolean {
    if (!this.key) return true;
    const expected = Buffer.from(this.sign(parts), 'utf8');
    const got = Buffer.from(signature, 'utf8');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return false;
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    this.order.push(signature);
    if (this.order.length > 10000) this.seen.delete(this.order.shift()!);
    return true;
  }
}

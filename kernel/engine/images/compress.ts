// Layer compression for push: gzip through zlib with a fixed header (no
// name, mtime 0), zstd through libzstd in the addon at a fixed level. Both
// are deterministic, so the same layer always gets the same digest.
import { Transform, TransformCallback } from 'stream';
import * as zlib from 'zlib';
import { native } from '../native';

export type PushCompression = 'gzip' | 'zstd';

export const LAYER_MEDIA: Record<PushCompression, string> = {
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

class ZstdCompress extends Transform {
  private readonly encoder = new (native().ZstdEncoder)(3);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const out = this.encoder.push(chunk);
      if (out.length) this.push(out);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.push(this.encoder.end());
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

export function compressor(c: PushCompression): NodeJS.ReadWriteStream {
  return c === 'zstd' ? new ZstdCompress() : zlib.createGzip({ level: 6 });
}

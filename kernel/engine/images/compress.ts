// Layer compression for push: gzip through zlib with a fixed header (no
// name, mtime 0), zstd through libzstd in the addon at a fixed level. Both
// are deterministic, so the same layer always gets the same digest.
import * as zlib from 'zlib';
import { native } from '../native';
import { ZstdStream } from './zstd-stream';

export type PushCompression = 'gzip' | 'zstd';

export const LAYER_MEDIA: Record<PushCompression, string> = {
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

export function compressor(c: PushCompression): NodeJS.ReadWriteStream {
  return c === 'zstd' ? new ZstdStream(new (native().ZstdEncoder)(3)) : zlib.createGzip({ level: 6 });
}

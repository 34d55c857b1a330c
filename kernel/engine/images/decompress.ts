// Layer compression, known by media type or by the first bytes, and the
// streams that undo it: gzip through zlib, zstd through libzstd in the
// addon. A layer in neither is plain tar.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { native } from '../native';
import { ZstdStream } from './zstd-stream';

export type Compression = 'gzip' | 'zstd' | undefined;

export function compressionOfBytes(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

export function compressionOfFile(file: string): Compression {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return compressionOfBytes(head.subarray(0, fs.readSync(fd, head, 0, 4, 0)));
  } finally {
    fs.closeSync(fd);
  }
}

// …tar+gzip, …tar.gzip (docker's), …tar+zstd; anything else is plain.
export function compressionOfMediaType(mediaType: string): Compression {
  if (/\+zstd$/.test(mediaType)) return 'zstd';
  if (/gzip/.test(mediaType)) return 'gzip';
  return undefined;
}

// The stages that turn the compressed stream into tar (none for plain).
export function decompressors(c: Compression): NodeJS.ReadWriteStream[] {
  if (c === 'gzip') return [zlib.createGunzip({ chunkSize: 1 << 18 })]; // big chunks: fewer hops down the pipeline
  if (c === 'zstd') return [new ZstdStream(new (native().ZstdDecoder)())];
  return [];
}

// A stream around the addon's zstd coders (decoder or encoder): each chunk
// goes through push() synchronously, as zlib's own calls do, and end()
// gives the frame's tail (the decoder's throws if the frame was cut short).
import { Transform, TransformCallback } from 'stream';

export interface ZstdCoder {
  push(chunk: Buffer): Buffer;
  end(): Buffer | void;
}

export class ZstdStream extends Transform {
  constructor(private readonly coder: ZstdCoder) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const out = this.coder.push(chunk);
      if (out.length) this.push(out);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      const rest = this.coder.end();
      if (rest && rest.length) this.push(rest);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

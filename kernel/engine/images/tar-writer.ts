// Writing a tar stream (ustar, with PAX records where ustar cannot hold a
// name, link target, id or size), hashed and counted as it goes. Headers
// are made here and written in large chunks, not one stream callback per
// entry: a layer of 2,000 small files is mostly headers. Every field is a
// function of the entry alone, so the same entries give the same bytes.

export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPE: Record<TarHeader['type'], string> = { file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6' };
const CHUNK = 1 << 20;

export interface TarSink {
  write(chunk: Buffer): void | Promise<void>;
}

function octal(buf: Buffer, value: number, offset: number, width: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0'), offset, width - 1, 'ascii');
  buf[offset + width - 1] = 0;
}

// PAX record "LEN key=value\n", where LEN counts the whole record.
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

// ustar keeps a long name as prefix (155 bytes) + "/" + name (100 bytes).
function splitName(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest) return [prefix, rest];
  }
  return undefined;
}

const MAX_ID = 0o7777777;
const MAX_SIZE = 0o77777777777;

export class TarWriter {
  private readonly hash = (require('crypto') as typeof import('crypto')).createHash('sha256');
  private parts: Buffer[] = [];
  private pending = 0;
  private total = 0;

  constructor(private readonly sink: TarSink) {}

  private push(b: Buffer): void {
    this.parts.push(b);
    this.pending += b.length;
  }

  private block(h: TarHeader, name: string, prefix: string, size: number, typeflag: string): Buffer {
    const b = Buffer.alloc(512);
    b.write(name, 0, 100, 'utf8');
    octal(b, h.mode & 0o7777, 100, 8);
    octal(b, Math.min(h.uid, MAX_ID), 108, 8);
    octal(b, Math.min(h.gid, MAX_ID), 116, 8);
    octal(b, Math.min(size, MAX_SIZE), 124, 12);
    octal(b, Math.max(0, Math.floor(h.mtime.getTime() / 1000)), 136, 12);
    b.write('        ', 148, 8, 'ascii');
    b.write(typeflag, 156, 1, 'ascii');
    if (h.linkname && Buffer.byteLength(h.linkname) <= 100) b.write(h.linkname, 157, 100, 'utf8');
    b.write('ustar\u000000', 257, 8, 'binary');
    octal(b, h.devmajor ?? 0, 329, 8);
    octal(b, h.devminor ?? 0, 337, 8);
    if (prefix) b.write(prefix, 345, 155, 'utf8');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += b[i];
    b.write(sum.toString(8).padStart(6, '0'), 148, 6, 'ascii');
    b[154] = 0;
    b[155] = 0x20;
    return b;
  }

  private padded(data: Buffer): void {
    this.push(data);
    const rest = data.length % 512;
    if (rest) this.push(Buffer.alloc(512 - rest));
  }

  // One entry; body is the file's bytes (a file's size is body's length).
  async entry(h: TarHeader, body?: Buffer): Promise<void> {
    const size = h.type === 'file' ? (body?.length ?? h.size ?? 0) : 0;
    await this.header(h, size);
    if (body && body.length) this.padded(body);
    await this.flushIfFull();
  }

  // A header whose body the caller streams with data() (big files).
  async header(h: TarHeader, size: number): Promise<void> {
    const split = splitName(h.name);
    const pax: string[] = [];
    if (!split) pax.push(paxRecord('path', h.name));
    if (h.linkname && Buffer.byteLength(h.linkname) > 100) pax.push(paxRecord('linkpath', h.linkname));
    if (h.uid > MAX_ID) pax.push(paxRecord('uid', String(h.uid)));
    if (h.gid > MAX_ID) pax.push(paxRecord('gid', String(h.gid)));
    if (size > MAX_SIZE) pax.push(paxRecord('size', String(size)));
    if (pax.length) {
      const data = Buffer.from(pax.join(''), 'utf8');
      const base = h.name.split('/').filter(Boolean).pop() ?? 'entry';
      this.push(this.block({ ...h, linkname: undefined }, `PaxHeader/${base}`.slice(0, 99), '', data.length, 'x'));
      this.padded(data);
    }
    const [prefix, name] = split ?? ['', h.name.slice(0, 100)];
    this.push(this.block(h, name, prefix, size, TYPE[h.type]));
  }

  async data(chunk: Buffer): Promise<void> {
    this.push(chunk);
    await this.flushIfFull();
  }

  async endData(size: number): Promise<void> {
    const rest = size % 512;
    if (rest) this.push(Buffer.alloc(512 - rest));
    await this.flushIfFull();
  }

  private async flushIfFull(): Promise<void> {
    if (this.pending >= CHUNK) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.pending) return;
    const chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.pending);
    this.parts = [];
    this.pending = 0;
    this.hash.update(chunk);
    this.total += chunk.length;
    await this.sink.write(chunk);
  }

  // The end-of-archive marker; returns the stream's digest and size.
  async finish(): Promise<{ digest: string; size: number }> {
    this.push(Buffer.alloc(1024));
    await this.flush();
    return { digest: `sha256:${this.hash.digest('hex')}`, size: this.total };
  }
}

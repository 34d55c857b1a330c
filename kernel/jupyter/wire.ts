// Message framing: [identities..., "<IDS|MSG>", signature, header,
// parent_header, metadata, content, buffers...].
import { Header, Message } from './messages';
import { Signer } from './signing';

const DELIMITER = Buffer.from('<IDS|MSG>');

export class WireError extends Error {}

export function decode(frames: Buffer[], signer: Signer): Message {
  const d = frames.findIndex((f) => f.equals(DELIMITER));
  if (d < 0 || frames.length < d + 6) throw new WireError('malformed message: no delimiter or too few frames');
  const signature = frames[d + 1].toString('utf8');
  const parts = frames.slice(d + 2, d + 6);
  if (!signer.verify(signature, parts)) throw new WireError('invalid or replayed signature');
  const json = (b: Buffer) => JSON.parse(b.toString('utf8') || '{}');
  const header = json(parts[0]) as Header;
  if (!header || typeof header.msg_type !== 'string') throw new WireError('malformed header');
  return {
    identities: frames.slice(0, d),
    header,
    parent_header: json(parts[1]),
    metadata: json(parts[2]),
    content: json(parts[3]),
    buffers: frames.slice(d + 6),
  };
}

export function encode(msg: Omit<Message, 'buffers'> & { buffers?: Buffer[] }, signer: Signer): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p)));
  return [...msg.identities, DELIMITER, Buffer.from(signer.sign(parts)), ...parts, ...(msg.buffers ?? [])];
}

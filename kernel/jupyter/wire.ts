// Message framing: [identities..., "<IDS|MSG>", signature, header,
// parent_header, metadata, content, buffers...]. A message that is not what
// the protocol says (bad JSON, a header without msg_id or session, absurd
// nesting) is refused here, before anything acts on it.
import { Header, Message } from './messages';
import { Signer } from './signing';
import { depthOf, isObject } from './validate';

const DELIMITER = Buffer.from('<IDS|MSG>');
// Far beyond any real message; deep enough nesting makes JSON.stringify
// overflow the stack when the header is echoed back as a parent header.
export const MAX_DEPTH = 100;

export class WireError extends Error {}

function parsePart(b: Buffer, what: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(b.toString('utf8') || '{}');
  } catch {
    throw new WireError(`malformed message: the ${what} is not JSON`);
  }
  if (depthOf(v, MAX_DEPTH) > MAX_DEPTH) throw new WireError(`malformed message: the ${what} nests deeper than ${MAX_DEPTH} levels`);
  return v;
}

function checkHeader(h: unknown, what: string, required: boolean): void {
  if (!isObject(h)) throw new WireError(`malformed message: the ${what} is not an object`);
  if (!required && Object.keys(h).length === 0) return; // an empty parent header
  for (const key of ['msg_id', 'session', 'msg_type']) {
    if (typeof h[key] !== 'string' || (required && h[key] === '')) throw new WireError(`malformed message: the ${what} has no ${key}`);
  }
  for (const key of ['username', 'date', 'version']) {
    if (h[key] !== undefined && typeof h[key] !== 'string') throw new WireError(`malformed message: the ${what}'s ${key} is not a string`);
  }
}

// Content stays unknown here: whether it suits the request is the kernel's
// to say, with an error reply the client can match to its request.
export function decode(frames: Buffer[], signer: Signer): Message<unknown> {
  const d = frames.findIndex((f) => f.equals(DELIMITER));
  if (d < 0 || frames.length < d + 6) throw new WireError('malformed message: no delimiter or too few frames');
  const signature = frames[d + 1].toString('utf8');
  const parts = frames.slice(d + 2, d + 6);
  if (!signer.verify(signature, parts)) throw new WireError('invalid or replayed signature');
  const header = parsePart(parts[0], 'header');
  checkHeader(header, 'header', true);
  const parent = parsePart(parts[1], 'parent header');
  checkHeader(parent, 'parent header', false);
  const metadata = parsePart(parts[2], 'metadata');
  if (!isObject(metadata)) throw new WireError('malformed message: the metadata is not an object');
  return {
    identities: frames.slice(0, d),
    header: header as unknown as Header,
    parent_header: parent as Message['parent_header'],
    metadata,
    content: parsePart(parts[3], 'content'),
    buffers: frames.slice(d + 6),
  };
}

export function encode(msg: Omit<Message, 'buffers'> & { buffers?: Buffer[] }, signer: Signer): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p)));
  return [...msg.identities, DELIMITER, Buffer.from(signer.sign(parts)), ...parts, ...(msg.buffers ?? [])];
}

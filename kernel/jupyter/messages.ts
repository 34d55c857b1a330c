// Jupyter messaging protocol types (protocol 5.3+), as the wire carries them.
import { randomUUID } from 'crypto';

export const PROTOCOL_VERSION = '5.3';

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C = Record<string, unknown>> {
  identities: Buffer[]; // ROUTER routing prefix, echoed back on replies
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

export type MimeBundle = Record<string, unknown>;

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';

export function newHeader(msgType: string, session: string, username = 'berth'): Header {
  return { msg_id: randomUUID(), session, username, date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION };
}

export interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  user_expressions?: Record<string, string>;
  allow_stdin?: boolean;
  stop_on_error?: boolean;
}

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

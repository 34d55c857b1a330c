// The connection file a Jupyter client writes for the kernel it starts.
import * as fs from 'fs';

export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
}

export function readConnectionFile(file: string): ConnectionInfo {
  const info = JSON.parse(fs.readFileSync(file, 'utf8')) as ConnectionInfo;
  info.transport = info.transport ?? 'tcp';
  info.signature_scheme = info.signature_scheme ?? 'hmac-sha256';
  return info;
}

export function endpoint(info: ConnectionInfo, port: number): string {
  return info.transport === 'ipc' ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

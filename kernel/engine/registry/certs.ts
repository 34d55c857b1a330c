// A registry's certificates where docker and podman keep them, and Berth's
// own: certs.d/HOST:PORT/ in Berth's config directory (~/.config/berth, or
// BERTH_CONFIG), /etc/berth, /etc/docker and /etc/containers. As docker
// reads such a directory: every *.crt is a CA (added to the system's, not
// instead of them), and NAME.cert with NAME.key is a client certificate.
import * as fs from 'fs';
import * as path from 'path';
import * as tls from 'tls';
import { BerthError } from '../errors';
import { configDir } from '../store/config-dir';

export interface TlsSettings {
  verify: boolean; // false: --tls-verify=false, the user's explicit choice
  ca?: string[]; // the system's roots plus the registry's own CAs
  cert?: string;
  key?: string;
  dir?: string; // where they came from, for messages
}

export function certDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [path.join(configDir(env), 'certs.d'), '/etc/berth/certs.d', '/etc/docker/certs.d', '/etc/containers/certs.d'];
}

// The first directory that has this registry, or undefined.
export function registryCerts(registry: string, env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  for (const base of certDirs(env)) {
    const dir = path.join(base, registry);
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      continue;
    }
    const read = (n: string) => fs.readFileSync(path.join(dir, n), 'utf8');
    const cas = names.filter((n) => n.endsWith('.crt')).map(read);
    const out: TlsSettings = { verify: true, dir, ...(cas.length ? { ca: [...tls.rootCertificates, ...cas] } : {}) };
    const certs = names.filter((n) => n.endsWith('.cert'));
    for (const c of certs) {
      const keyName = `${c.slice(0, -5)}.key`;
      if (!names.includes(keyName)) throw new BerthError(`${path.join(dir, c)} has no key beside it: a client certificate needs ${keyName} in ${dir}`);
    }
    if (certs.length) {
      out.cert = read(certs[0]);
      out.key = read(`${certs[0].slice(0, -5)}.key`);
    }
    for (const k of names.filter((n) => n.endsWith('.key'))) {
      if (!names.includes(`${k.slice(0, -4)}.cert`)) throw new BerthError(`${path.join(dir, k)} has no certificate beside it: a client key needs ${k.slice(0, -4)}.cert in ${dir}`);
    }
    return out;
  }
  return undefined;
}

// What a TLS failure means, and what to do about it.
// tls: the settings the failed request had (undefined when it was not TLS).
export function tlsAdvice(registry: string, code: string | undefined, env: NodeJS.ProcessEnv = process.env, tls?: TlsSettings): string | undefined {
  const place = `${path.join(certDirs(env)[0], registry)}/ca.crt (or /etc/docker/certs.d/${registry}/ca.crt)`;
  if (!code) return undefined;
  if (/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT/.test(code)) {
    return `its certificate is signed by a CA Berth does not trust (${code}): put that CA in ${place}, or pass --tls-verify=false if you trust the network`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `its certificate is not for the name ${registry} (${code}): use the name the certificate was made for`;
  if (code === 'CERT_HAS_EXPIRED') return `its certificate has expired (${code}): the registry's administrators must renew it`;
  // Over TLS 1.3 a registry that wants a client certificate and got none
  // ends the connection after the handshake, which is all the client sees.
  // Only said where certs.d names the registry: a private one, configured.
  const closedWithoutClientCert = tls?.dir !== undefined && !tls.cert && /UND_ERR_SOCKET|ECONNRESET/.test(code);
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA/.test(code) || closedWithoutClientCert) {
    return `it asks for a client certificate it accepts (${code}): put client.cert and client.key in ${path.join(certDirs(env)[0], registry)}/`;
  }
  return undefined;
}

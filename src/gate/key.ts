// Who came: the authenticating key from SSH_USER_AUTH (sshd's ExposeAuthInfo),
// its type and SHA256 fingerprint as ssh-keygen -l prints them, and, for a
// certificate, what the certificate says (src/sshd/cert.ts).
import { readFileSync } from 'node:fs';
import type { CertRecord } from '../log/record.js';
import { isCertificateType, parseCertificate } from '../sshd/cert.js';

export interface Identity {
  /** `TYPE SHA256:…` of the key that authenticated (of a certificate: its own public key, as `ssh-keygen -l` and sshd's log name it); null when sshd does not say. */
  key: string | null;
  /** The certificate's identity, when the key was a certificate that reads exactly. */
  cert?: CertRecord;
}

/** Async: node:crypto is loaded only when sshd exposes the key (ExposeAuthInfo). */
export async function identify(userAuthFile: string | null): Promise<Identity> {
  if (!userAuthFile) return { key: null };
  let text: string;
  try {
    text = readFileSync(userAuthFile, 'utf8');
  } catch {
    return { key: null };
  }
  const line = text.split('\n').find((l) => l.startsWith('publickey '));
  if (!line) return { key: null };
  const [, type, b64] = line.split(' ');
  if (!type || !b64) return { key: null };
  const { createHash } = await import('node:crypto');
  const fingerprint = (blob: Uint8Array) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const blob = Buffer.from(b64, 'base64');
  if (!isCertificateType(type)) return { key: `${type} ${fingerprint(blob)}` };
  const c = parseCertificate(blob);
  // Malformed (sshd verified it, so this is not expected): the blob's own fingerprint, and no cert field.
  if (!c || c.certType !== type) return { key: `${type} ${fingerprint(blob)}` };
  const iso = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString());
  const cert: CertRecord = {
    keyId: c.keyId,
    serial: c.serial,
    principals: c.principals,
    ca: `${c.caType} ${fingerprint(c.caBlob)}`,
    validAfter: iso(c.validAfter),
    validBefore: iso(c.validBefore),
  };
  if (Object.keys(c.criticalOptions).length) cert.criticalOptions = c.criticalOptions;
  if (c.extensions.length) cert.extensions = c.extensions;
  return { key: `${c.keyType} ${fingerprint(c.keyBlob)}`, cert };
}

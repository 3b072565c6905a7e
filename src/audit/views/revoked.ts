// Which sessions came with a key or certificate that is revoked *now*: the
// RevokedKeys list (the one install --revoked-keys recorded, or --revoked-keys)
// is read once per audit run, through ssh-keygen -Q -l for a KRL (or as text
// for a plain list of keys), into sets; each record then costs a lookup of its
// key's fingerprint (and, for a certificate, its CA, serial and key ID).
// A KRL entry made from a SHA1 hash names no fingerprint: it is matched
// through the keys install recorded, whose blobs are known.
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readState, statePath } from '../../install/state.js';
import { parseLine } from '../../sshd/authorized-keys.js';
import { certRevoked, isKrl, keyRevoked, listKrl, parseKeyList, type CertIdentity, type KrlListing } from '../../sshd/krl.js';
import type { AuditRecord } from '../join/transfer.js';

/** The list, or null when there is none (nothing is marked); a list that cannot be read is said once. */
export async function loadRevoked(file: string | undefined, policyDir: string, warn: (m: string) => void): Promise<KrlListing | null> {
  const configDir = dirname(policyDir.replace(/\/+$/, ''));
  let list = file;
  let state = null;
  try {
    if (existsSync(statePath(configDir))) state = readState(configDir);
  } catch {
    state = null;
  }
  list ??= state?.revokedKeys?.file;
  if (list === undefined) return null;
  try {
    const data = readFileSync(list);
    const listing = isKrl(data) ? await listKrl(list) : parseKeyList(data.toString('utf8'));
    if (listing.sha1.size)
      for (const k of state?.keys ?? []) {
        const l = parseLine(k.line);
        if (l.kind === 'key' && keyRevoked(listing, 'SHA256:-', l.key.blob)) listing.fingerprints.add(k.fingerprint);
      }
    return listing;
  } catch (e) {
    warn(`cannot read the revocation list ${list}, sessions of revoked keys are not marked: ${(e as Error).message}`);
    return null;
  }
}

/** The record's key (a plain key, or a certificate's own key) or its certificate (record.cert, when the gate logged one) is revoked. */
export function isRevoked(listing: KrlListing, r: AuditRecord): boolean {
  if (r.key && keyRevoked(listing, r.key)) return true;
  const cert = (r as { cert?: Partial<CertIdentity> | null }).cert;
  return !!cert && typeof cert.ca === 'string' && typeof cert.keyId === 'string' && cert.serial !== undefined && certRevoked(listing, cert as CertIdentity);
}

// sshd's RevokedKeys list: a KRL (OpenSSH's binary key revocation list,
// PROTOCOL.krl) or a plain list of public keys. The binary format is only
// ever made and changed by ssh-keygen itself (`-k`, `-k -u`), queried with
// `-Q`, and read back as text with `-Q -l`; this module runs those (execFile,
// absolute path, no shell) and parses what they print. A plain list is text:
// one public key per line, as sshd reads it.
//
// sshd reads the file at every public-key authentication (auth2-pubkey.c), so
// a change applies to the next session without a reload; sessions already
// open are not touched. A RevokedKeys file sshd cannot read refuses every key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseAuthorizedKeys, type PublicKey } from './authorized-keys.js';
import { run } from './run.js';

export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/** The first bytes of every KRL (krl.h KRL_MAGIC). */
const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');

export const isKrl = (data: Buffer): boolean => data.length >= KRL_MAGIC.length && data.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC);

const said = (r: { stdout: string; stderr: string; error?: string; code: number | null }) => r.error ?? ((r.stderr || r.stdout).trim() || `exit ${r.code}`);

/** `ssh-keygen -k -f FILE`: a new, empty KRL at FILE (which must not exist yet: the caller makes a fresh name). */
export async function makeEmptyKrl(file: string, sshKeygen = SSH_KEYGEN): Promise<void> {
  const r = await run(sshKeygen, ['-q', '-k', '-f', file]);
  if (r.code !== 0) throw new Error(`${sshKeygen} -k -f ${file}: ${said(r)}`);
}

/**
 * `ssh-keygen -k -u [-s CA] -f KRL INPUT…`: add to an existing KRL. Each
 * input is a public key (or certificate) file, or a KRL specification
 * (`serial: N`, `id: KEYID`, ... see ssh-keygen(1) KEY REVOCATION LISTS),
 * whose serial and id lines need the CA.
 */
export async function updateKrl(krl: string, inputs: readonly string[], ca?: string, sshKeygen = SSH_KEYGEN): Promise<void> {
  const r = await run(sshKeygen, ['-q', '-k', '-u', ...(ca !== undefined ? ['-s', ca] : []), '-f', krl, ...inputs]);
  if (r.code !== 0) throw new Error(`${sshKeygen} -k -u -f ${krl}: ${said(r)}`);
}

/**
 * `ssh-keygen -Q -f KRL KEY…`, all keys in one run: whether each is revoked.
 * The keys are written to a private temporary directory first, one per file
 * (as -Q reads them); ssh-keygen never opens a path the caller passed.
 */
export async function queryKrl(krl: string, keys: readonly PublicKey[], sshKeygen = SSH_KEYGEN): Promise<boolean[]> {
  if (keys.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'gatekeeper-krl-'));
  try {
    const files = keys.map((k, i) => {
      const f = join(dir, `k${i}.pub`);
      writeFileSync(f, `${k.type} ${k.blob}\n`, { mode: 0o600 });
      return f;
    });
    const r = await run(sshKeygen, ['-Q', '-f', krl, ...files]);
    // 0: none revoked, 1: some; anything else (an unreadable or invalid list) is an error.
    if (r.code !== 0 && r.code !== 1) throw new Error(`${sshKeygen} -Q -f ${krl}: ${said(r)}`);
    const lines = r.stdout.split('\n');
    return files.map((f) => {
      const line = lines.find((l) => l.startsWith(`${f}: `) || l.startsWith(`${f} (`));
      if (!line) throw new Error(`${sshKeygen} -Q -f ${krl} said nothing about a key: ${r.stdout.trim()}`);
      return line.endsWith(': REVOKED');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The certificates one CA's section of a KRL revokes. */
export interface KrlCaSection {
  /** `TYPE SHA256:…` of the CA key, or null for a wildcard section (any CA). */
  ca: string | null;
  /** Inclusive serial ranges (a single serial is [n, n]). */
  serials: [bigint, bigint][];
  keyIds: Set<string>;
}

/** What a revocation list revokes, as far as a log record can be compared with it. */
export interface KrlListing {
  /** `SHA256:…` fingerprints of keys revoked explicitly or by their SHA256 hash. */
  fingerprints: Set<string>;
  /** Hex SHA1 hashes of key blobs (a KRL made by ssh-keygen before 9.x, or `sha1:` lines). */
  sha1: Set<string>;
  certs: KrlCaSection[];
}

const hexToFingerprint = (hex: string): string => `SHA256:${Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '')}`;

/**
 * Parse `ssh-keygen -Q -l -f KRL` (krl.c krl_dump): explicit keys as
 * `hash: SHA256:BASE64 # TYPE`, SHA256-hash entries as `hash: SHA256:HEX`,
 * SHA1 hashes as `# hash SHA1:HEX`, then per CA a `# CA key TYPE SHA256:…`
 * (or `# Wildcard CA`) line and its `serial: N`, `serial: N-M`, `id: ID` lines.
 */
export function parseKrlListing(text: string): KrlListing {
  const out: KrlListing = { fingerprints: new Set(), sha1: new Set(), certs: [] };
  let section: KrlCaSection | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = /^# CA key (\S+ SHA256:[A-Za-z0-9+/]+)$/.exec(line))) out.certs.push((section = { ca: m[1]!, serials: [], keyIds: new Set() }));
    else if (/^# Wildcard CA\b/i.test(line)) out.certs.push((section = { ca: null, serials: [], keyIds: new Set() }));
    else if ((m = /^hash: SHA256:([0-9a-f]{64})$/.exec(line))) out.fingerprints.add(hexToFingerprint(m[1]!));
    else if ((m = /^hash: (SHA256:[A-Za-z0-9+/]+)(?: #.*)?$/.exec(line))) out.fingerprints.add(m[1]!);
    else if ((m = /^# hash SHA1:([0-9a-f]{40})$/.exec(line))) out.sha1.add(m[1]!);
    else if (section && (m = /^serial: (\d+)(?:-(\d+))?$/.exec(line))) section.serials.push([BigInt(m[1]!), BigInt(m[2] ?? m[1]!)]);
    else if (section && (m = /^id: (.*)$/.exec(line))) section.keyIds.add(m[1]!);
  }
  return out;
}

/** A plain RevokedKeys list: the fingerprints of the public keys it names (sshd compares the keys themselves). */
export function parseKeyList(text: string): KrlListing {
  const fingerprints = new Set<string>();
  for (const l of parseAuthorizedKeys(text)) if (l.kind === 'key' && l.options.length === 0) fingerprints.add(fingerprintOf(l.key.blob));
  return { fingerprints, sha1: new Set(), certs: [] };
}

const fingerprintOf = (blob: string): string => `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;

/** `ssh-keygen -Q -l -f KRL`, parsed (an ssh-keygen without -l here fails, and the caller says so). */
export async function listKrl(krl: string, sshKeygen = SSH_KEYGEN): Promise<KrlListing> {
  const r = await run(sshKeygen, ['-Q', '-l', '-f', krl]);
  if (r.code !== 0) throw new Error(`${sshKeygen} -Q -l -f ${krl}: ${said(r)}`);
  return parseKrlListing(r.stdout);
}

/** The certificate fields a log record carries (record.ts `cert`). */
export interface CertIdentity {
  keyId: string;
  serial: string | number | bigint;
  /** `TYPE SHA256:…` of the signing CA. */
  ca: string;
}

/** Whether the listing revokes this certificate by serial or key ID (a CA of its own or a wildcard section). */
export function certRevoked(listing: KrlListing, cert: CertIdentity): boolean {
  let serial: bigint;
  try {
    serial = BigInt(cert.serial);
  } catch {
    return false;
  }
  // Compared by fingerprint: the type word may be spelt differently (ssh-ed25519, ED25519).
  const ca = fingerprintWord(cert.ca);
  return listing.certs.some(
    (s) => (s.ca === null || fingerprintWord(s.ca) === ca) && ((serial !== 0n && s.serials.some(([lo, hi]) => lo <= serial && serial <= hi)) || s.keyIds.has(cert.keyId)),
  );
}

const fingerprintWord = (text: string): string => text.split(' ').find((w) => w.startsWith('SHA256:')) ?? text;

/** Whether the listing revokes the key with this fingerprint (`SHA256:…`, or a record's `TYPE SHA256:…`). */
export function keyRevoked(listing: KrlListing, fingerprint: string, blob?: string): boolean {
  const fp = fingerprintWord(fingerprint);
  if (listing.fingerprints.has(fp)) return true;
  return blob !== undefined && listing.sha1.has(createHash('sha1').update(Buffer.from(blob, 'base64')).digest('hex'));
}

// `gatekeeper keys`: the keys `gatekeeper install` wired to the gate, as its
// manifest (CONFIG-DIR/install-state.json) records them — exactly the keys
// `uninstall --key` can take out again — and whether each line is still in
// authorized_keys as install wrote it. Changes nothing. Configuration
// management reads it (--json) to find the keys it installed earlier that are
// no longer wanted.
import { existsSync } from 'node:fs';
import { getOption, parseAuthorizedKeys, parseLine } from '../sshd/authorized-keys.js';
import { isExpired, isoTime, lineExpiry } from '../sshd/expiry.js';
import { isKrl, keyRevoked, parseKeyList, queryKrl } from '../sshd/krl.js';
import { readOrNull } from './fsutil.js';
import { parsePrincipalsLine } from '../sshd/principals.js';
import { readState, statePath, type InstallState } from './state.js';

export const KEYS_VERSION = 1;

export interface InstalledKey {
  user: string;
  /** The authorized_keys file the line is in. */
  file: string;
  policy: string;
  /** `SHA256:…` */
  fingerprint: string;
  /** `TYPE BASE64`, without the comment: what to compare and what `uninstall --key -` reads. */
  key: string;
  comment: string;
  /** The from="…" addresses, or null when the line has none. */
  from: string[] | null;
  /** The line install wrote is still in `file`, byte for byte. */
  present: boolean;
  /** Its expiry-time="…" as ISO 8601 UTC (`2027-01-31T18:00:00Z`), or null when it does not expire. */
  expires: string | null;
  /** The expiry is in the past: sshd refuses the key (`uninstall --expired` takes it out). */
  expired: boolean;
}

export interface KeysListOptions {
  configDir: string;
  /** Only keys of this authorized_keys file. */
  authorizedKeys?: string;
  /** Only keys of this user. */
  user?: string;
  json: boolean;
  /** The current time (a fact, read at the edge), for `expired`. */
  now: number;
  out: (s: string) => void;
  /** Warnings (a list ssh-keygen cannot read). */
  err?: (s: string) => void;
}

export function installedKeys(o: Pick<KeysListOptions, 'configDir' | 'authorizedKeys' | 'user' | 'now'>): InstalledKey[] {
  if (!existsSync(statePath(o.configDir))) return [];
  const state = readState(o.configDir);
  const texts = new Map<string, string[]>();
  const linesOf = (file: string): string[] => {
    let l = texts.get(file);
    if (!l) {
      l = parseAuthorizedKeys(readOrNull(file)?.toString('utf8') ?? '').map((x) => x.raw);
      texts.set(file, l);
    }
    return l;
  };
  const out: InstalledKey[] = [];
  for (const k of state.keys) {
    if (o.authorizedKeys && k.file !== o.authorizedKeys) continue;
    if (o.user && k.user !== o.user) continue;
    const parsed = parseLine(k.line);
    if (parsed.kind !== 'key') continue;
    const from = getOption(parsed.options, 'from')?.value ?? null;
    const exp = lineExpiry(parsed.options);
    const epoch = exp && 'epoch' in exp ? exp.epoch : null;
    out.push({
      user: k.user,
      file: k.file,
      policy: k.policy,
      fingerprint: k.fingerprint,
      key: `${parsed.key.type} ${parsed.key.blob}`,
      comment: parsed.key.comment,
      from: from === null ? null : from.split(','),
      present: linesOf(k.file).includes(k.line),
      expires: epoch === null ? null : isoTime(epoch),
      expired: epoch !== null && isExpired(epoch, { now: o.now }),
    });
  }
  return out;
}

/**
 * Each key with `revoked`: whether the RevokedKeys list install recorded
 * (install --revoked-keys) revokes it, as ssh-keygen -Q says (one run for
 * all keys; a plain list of keys is compared by key); null when no list is
 * recorded or it cannot be read.
 */
export async function withRevoked(configDir: string, keys: InstalledKey[], warn: (m: string) => void): Promise<(InstalledKey & { revoked: boolean | null })[]> {
  const list = existsSync(statePath(configDir)) ? readState(configDir).revokedKeys?.file : undefined;
  let revoked: (boolean | null)[] = keys.map(() => null);
  if (list !== undefined && keys.length) {
    const data = readOrNull(list);
    try {
      if (data === null) throw new Error(`${list} does not exist (sshd refuses every key while it is missing)`);
      if (isKrl(data)) {
        const parsed = keys.map((k) => parsePublicKeyParts(k.key));
        revoked = await queryKrl(list, parsed);
      } else {
        const plain = parseKeyList(data.toString('utf8'));
        revoked = keys.map((k) => keyRevoked(plain, k.fingerprint));
      }
    } catch (e) {
      warn(`cannot tell which keys ${list} revokes: ${(e as Error).message}`);
    }
  }
  return keys.map((k, i) => ({ ...k, revoked: revoked[i] ?? null }));
}

const parsePublicKeyParts = (key: string) => {
  const [type = '', blob = ''] = key.split(' ');
  return { type, blob, comment: '' };
};

/** A principal install --ca wired to the gate: what `uninstall --principal` can take out again. */
export interface InstalledPrincipal {
  user: string;
  /** The principals file (PRINCIPALS-DIR/USER). */
  file: string;
  name: string;
  policy: string;
  /** The from="…" addresses, or null when the line has none. */
  from: string[] | null;
  /** The line install wrote is still in `file`, byte for byte. */
  present: boolean;
}

/** A CA install --ca added to its TrustedUserCAKeys file: what `uninstall --ca` can take out again. */
export interface InstalledCa {
  file: string;
  fingerprint: string;
  /** `TYPE BASE64`, without the comment. */
  key: string;
}

/** The principals (of o.user, when given) and the CAs install --ca recorded; empty lists without any. */
export function certificates(state: InstallState | null, o: Pick<KeysListOptions, 'user'>): { principals: InstalledPrincipal[]; cas: InstalledCa[] } {
  const ca = state?.ca;
  if (!ca) return { principals: [], cas: [] };
  const texts = new Map<string, string[]>();
  const linesOf = (file: string): string[] => {
    let l = texts.get(file);
    if (!l) texts.set(file, (l = (readOrNull(file)?.toString('utf8') ?? '').split('\n')));
    return l;
  };
  const principals = ca.principals
    .filter((p) => !o.user || p.user === o.user)
    .map((p): InstalledPrincipal => {
      const line = parsePrincipalsLine(p.line);
      const from = line.kind === 'principal' ? (getOption(line.options, 'from')?.value ?? null) : null;
      return { user: p.user, file: p.file, name: p.name, policy: p.policy, from: from === null ? null : from.split(','), present: linesOf(p.file).includes(p.line) };
    });
  const cas = ca.cas.map((c): InstalledCa => ({ file: ca.caFile, fingerprint: c.fingerprint, key: c.line.trim().split(/\s+/).slice(0, 2).join(' ') }));
  return { principals, cas };
}

export async function keysList(o: KeysListOptions): Promise<number> {
  const keys = await withRevoked(o.configDir, installedKeys(o), (m) => o.err?.(`gatekeeper: warning: ${m}\n`));
  const state = existsSync(statePath(o.configDir)) ? readState(o.configDir) : null;
  // revokedKeys: the list install --revoked-keys recorded, or null (the role compares it with the one it wants).
  const revokedKeys = state?.revokedKeys?.file ?? null;
  if (o.json) o.out(`${JSON.stringify({ version: KEYS_VERSION, keys, ...certificates(state, o), revokedKeys })}\n`);
  else if (keys.length === 0) o.out(`no keys recorded in ${statePath(o.configDir)}\n`);
  else
    for (const k of keys) {
      const expiry = k.expires === null ? '' : k.expired ? ` (expired ${k.expires})` : ` (expires ${k.expires})`;
      o.out(`${k.fingerprint} ${k.policy} ${k.user} ${k.file}${expiry}${k.revoked ? ' (revoked)' : ''}${k.present ? '' : ' (line changed since install)'}${k.comment ? ` ${k.comment}` : ''}\n`);
    }
  return 0;
}

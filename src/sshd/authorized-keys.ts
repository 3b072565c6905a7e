// authorized_keys: one precise parser and one printer (sshd(8) "AUTHORIZED_KEYS
// FILE FORMAT", as implemented by OpenSSH's auth2-pubkeyfile.c and
// auth-options.c). install and doctor share it.
//
// The parser keeps every line's raw bytes, so printing an unmodified parse
// reproduces the file byte for byte: install only ever replaces or inserts
// whole lines and leaves the admin's other lines exactly as they were.
// Like sshd, it fails closed: an options field sshd would reject makes the
// line `invalid` (sshd ignores such a line; we report it and never edit it).

import { createHash } from 'node:crypto';
import { lineExpiry } from './expiry.js';

/** Key types sshd accepts in authorized_keys (sshkey.c). */
export const KEY_TYPES: readonly string[] = [
  'ssh-ed25519',
  'sk-ssh-ed25519@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-rsa',
  'ssh-dss',
  'ssh-xmss@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
];

/** DSA: off by default since OpenSSH 7.0, removed in 10.0. */
export const isDsaType = (type: string): boolean => type === 'ssh-dss' || type === 'ssh-dss-cert-v01@openssh.com';

/** Options that take a quoted value (`name="value"`); auth-options.c. */
const VALUE_OPTIONS = new Set([
  'command',
  'environment',
  'expiry-time',
  'from',
  'permitopen',
  'permitlisten',
  'principals',
  'tunnel',
]);
/** Flag options; each restriction also has its positive form. */
const FLAG_OPTIONS = new Set([
  'restrict',
  'cert-authority',
  'no-touch-required',
  'verify-required',
  'no-agent-forwarding',
  'no-port-forwarding',
  'no-pty',
  'no-user-rc',
  'no-x11-forwarding',
  'agent-forwarding',
  'port-forwarding',
  'pty',
  'user-rc',
  'x11-forwarding',
]);

export interface KeyOption {
  /** As written (sshd compares names case-insensitively). */
  name: string;
  /** Dequoted value; null for a flag. */
  value: string | null;
}

export interface PublicKey {
  type: string;
  /** The base64 blob as written. */
  blob: string;
  /** Comment (may be empty). */
  comment: string;
}

export type AuthorizedKeysLine =
  | { kind: 'blank' | 'comment'; raw: string; eol: string }
  | { kind: 'invalid'; raw: string; eol: string; error: string }
  | { kind: 'key'; raw: string; eol: string; options: KeyOption[]; key: PublicKey };

export type KeyLine = Extract<AuthorizedKeysLine, { kind: 'key' }>;

/** Split into lines keeping each terminator, so join(raw + eol) is the input. */
export function splitLines(text: string): { raw: string; eol: string }[] {
  const out: { raw: string; eol: string }[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      out.push({ raw: text.slice(start), eol: '' });
      break;
    }
    out.push({ raw: text.slice(start, nl), eol: '\n' });
    start = nl + 1;
  }
  return out;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

/** Decode a key blob and return the key type name embedded in it, or null. */
export function blobType(blob: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return null;
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 4) return null;
  const len = bytes.readUInt32BE(0);
  if (len === 0 || len > 64 || bytes.length < 4 + len) return null;
  return bytes.subarray(4, 4 + len).toString('latin1');
}

/** Read `TYPE BLOB [comment]` at the start of s (sshkey_read); null when it is not a key. */
function readKey(s: string): PublicKey | { error: string } | null {
  const m = /^([^ \t]+)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(s) ?? /^([^ \t]+)[ \t]*$/.exec(s);
  if (!m) return null;
  const type = m[1] ?? '';
  if (!KEY_TYPES.includes(type)) return null;
  const blob = m[2];
  if (blob === undefined) return { error: `key type ${type} without key data` };
  const embedded = blobType(blob);
  if (embedded === null) return { error: `key data of ${type} is not valid base64 key data` };
  if (embedded !== type) return { error: `key type ${type} does not match the key data (${embedded})` };
  return { type, blob, comment: m[3] ?? '' };
}

/**
 * Parse an options field exactly as auth-options.c does: comma-separated,
 * `name` or `name="value"`, where the only escape is `\"`. Returns the rest of
 * the line after the field, or an error.
 */
export function parseOptions(s: string): { options: KeyOption[]; rest: string } | { error: string } {
  const options: KeyOption[] = [];
  let i = 0;
  while (i < s.length && !isSpace(s[i])) {
    const nameMatch = /^[A-Za-z0-9-]+/.exec(s.slice(i));
    if (!nameMatch) return { error: `bad option at column ${i + 1}` };
    const name = nameMatch[0];
    const lname = name.toLowerCase();
    i += name.length;
    let value: string | null = null;
    if (VALUE_OPTIONS.has(lname)) {
      if (s[i] !== '=') return { error: `option ${name} needs ="value"` };
      i++;
      if (s[i] !== '"') return { error: `option ${name}: missing start quote` };
      i++;
      let v = '';
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && s[i + 1] === '"') i++;
        v += s[i];
        i++;
      }
      if (i >= s.length) return { error: `option ${name}: missing end quote` };
      i++;
      value = v;
    } else if (!FLAG_OPTIONS.has(lname)) {
      return { error: `unknown option ${name}` };
    }
    options.push({ name, value });
    if (i >= s.length || isSpace(s[i])) break;
    if (s[i] !== ',') return { error: `unexpected character after option ${name}` };
    i++;
    if (i >= s.length || isSpace(s[i])) return { error: 'options end with a comma' };
  }
  return { options, rest: s.slice(i) };
}

export function parseLine(raw: string, eol = ''): AuthorizedKeysLine {
  let i = 0;
  while (isSpace(raw[i])) i++;
  const s = raw.slice(i).replace(/\r$/, '');
  if (s === '') return { kind: 'blank', raw, eol };
  if (s.startsWith('#')) return { kind: 'comment', raw, eol };
  // sshd first tries the line as a bare key, then as options followed by a key.
  const bare = readKey(s);
  if (bare && !('error' in bare)) return { kind: 'key', raw, eol, options: [], key: bare };
  if (bare && 'error' in bare) return { kind: 'invalid', raw, eol, error: bare.error };
  const parsed = parseOptions(s);
  if ('error' in parsed) return { kind: 'invalid', raw, eol, error: parsed.error };
  // sshd rejects the whole line on an expiry-time it cannot read (auth-options.c).
  const expiry = lineExpiry(parsed.options);
  if (expiry && 'error' in expiry) return { kind: 'invalid', raw, eol, error: expiry.error };
  const after = parsed.rest.replace(/^[ \t]+/, '');
  const key = readKey(after);
  if (key === null) return { kind: 'invalid', raw, eol, error: 'no public key after the options' };
  if ('error' in key) return { kind: 'invalid', raw, eol, error: key.error };
  return { kind: 'key', raw, eol, options: parsed.options, key };
}

export function parseAuthorizedKeys(text: string): AuthorizedKeysLine[] {
  return splitLines(text).map(({ raw, eol }) => parseLine(raw, eol));
}

/** The file again: every line's raw bytes and terminator. */
export function printAuthorizedKeys(lines: readonly AuthorizedKeysLine[]): string {
  return lines.map((l) => l.raw + l.eol).join('');
}

/** Quote a value the way auth-options.c reads it back; refuses what cannot round-trip. */
export function quoteOptionValue(value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error('an authorized_keys option value cannot contain a newline or NUL');
  // The reader turns `\"` into `"` and keeps every other backslash, so only a
  // trailing backslash is unrepresentable (it would escape the closing quote).
  if (value.endsWith('\\')) throw new Error('an authorized_keys option value cannot end with a backslash');
  return `"${value.replace(/"/g, '\\"')}"`;
}

export function printOptions(options: readonly KeyOption[]): string {
  return options.map((o) => (o.value === null ? o.name : `${o.name}=${quoteOptionValue(o.value)}`)).join(',');
}

/** Build a new key line (raw text without terminator) from options and a key. */
export function formatKeyLine(options: readonly KeyOption[], key: PublicKey): string {
  const head = options.length ? `${printOptions(options)} ` : '';
  return `${head}${key.type} ${key.blob}${key.comment ? ` ${key.comment}` : ''}`;
}

/** Parse a public key file (`TYPE BLOB comment`, possibly with options); the first key line. */
export function parsePublicKey(text: string): PublicKey | { error: string } {
  for (const line of parseAuthorizedKeys(text)) {
    if (line.kind === 'key') return line.key;
    if (line.kind === 'invalid') return { error: line.error };
  }
  return { error: 'no public key found' };
}

/** Same key: same decoded blob (the comment and options do not matter). */
export function sameKey(a: PublicKey, b: PublicKey): boolean {
  return Buffer.from(a.blob, 'base64').equals(Buffer.from(b.blob, 'base64'));
}

export function getOption(options: readonly KeyOption[], name: string): KeyOption | undefined {
  return options.find((o) => o.name.toLowerCase() === name);
}

export const hasOption = (options: readonly KeyOption[], name: string): boolean => getOption(options, name) !== undefined;

/** `SHA256:…` fingerprint, as ssh-keygen -l prints it. */
export function fingerprint(key: PublicKey): string {
  const digest = createHash('sha256').update(Buffer.from(key.blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** One-line description of a key for messages: type, fingerprint, comment. */
export const describeKey = (key: PublicKey): string => `${key.type} ${fingerprint(key)}${key.comment ? ` ${key.comment}` : ''}`;

// An OpenSSH user certificate, read from its wire format (PROTOCOL.certkeys in
// OpenSSH's sources), for the log: who the key holder is (key id, serial,
// principals), who vouched (the CA's key) and for how long.
//
//   string  "ssh-ed25519-cert-v01@openssh.com" (or another -cert-v01 type)
//   string  nonce
//   ...     the public key's own fields (1 to 4 strings, by type)
//   uint64  serial
//   uint32  type (1 user, 2 host)
//   string  key id
//   string  valid principals (strings, packed)
//   uint64  valid after, uint64 valid before (seconds; 0 and 2^64-1: forever)
//   string  critical options, string extensions ((name, data) pairs, packed)
//   string  reserved
//   string  signature key (the CA's public key blob)
//   string  signature
//
// sshd has verified the certificate before the gate runs; we only record it.
// The bytes still come from outside (a file sshd wrote, whose content the
// client chose), so every length is checked against what is left, nothing
// throws, and a blob that does not read exactly (short, trailing bytes, an
// unknown type, a host certificate, text that is not UTF-8) is no
// certificate at all: null, and the record carries no `cert`.
//
// Pure: no node:crypto here (the gate loads it lazily, key.ts); the caller
// hashes the blobs this returns.

/** A certificate's key types and how many string fields its public key has (the plain key's, after the type name). */
export const CERT_KEY_FIELDS: Readonly<Record<string, { plain: string; fields: number }>> = {
  'ssh-rsa-cert-v01@openssh.com': { plain: 'ssh-rsa', fields: 2 }, // e, n
  'ssh-dss-cert-v01@openssh.com': { plain: 'ssh-dss', fields: 4 }, // p, q, g, y
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp256', fields: 2 }, // curve, Q
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp384', fields: 2 },
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': { plain: 'ecdsa-sha2-nistp521', fields: 2 },
  'ssh-ed25519-cert-v01@openssh.com': { plain: 'ssh-ed25519', fields: 1 }, // pk
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com': { plain: 'sk-ecdsa-sha2-nistp256@openssh.com', fields: 3 }, // curve, Q, application
  'sk-ssh-ed25519-cert-v01@openssh.com': { plain: 'sk-ssh-ed25519@openssh.com', fields: 2 }, // pk, application
};

/** PROTOCOL.certkeys: SSH2_CERT_TYPE_USER. */
const USER_CERT = 1;
/** valid before 2^64-1: "forever". */
const FOREVER = (1n << 64n) - 1n;
/** The last second a JavaScript Date can hold (year 275760): later bounds are recorded as forever. */
const MAX_DATE_SECONDS = 8_640_000_000_000n;

export interface Certificate {
  /** The certificate's type name, e.g. ssh-ed25519-cert-v01@openssh.com. */
  certType: string;
  /** The plain key's type name, e.g. ssh-ed25519. */
  keyType: string;
  /** The plain public key's blob (type name and key fields), as its own authorized_keys line holds it: what its fingerprint is of. */
  keyBlob: Uint8Array;
  /** uint64, as decimal text: a JSON number would lose serials above 2^53. */
  serial: string;
  keyId: string;
  /** Empty: valid for any principal (sshd still needs the user's name or a principals file line to match). */
  principals: string[];
  /** Seconds since the epoch; null when unbounded (0). */
  validAfter: number | null;
  /** Seconds since the epoch; null when unbounded (2^64-1, or beyond what a date can hold). */
  validBefore: number | null;
  /** Critical options by name: force-command and source-address carry a string; an option without data is "". */
  criticalOptions: Record<string, string>;
  /** Extension names (permit-pty, permit-port-forwarding, ...), in the certificate's order. */
  extensions: string[];
  /** The CA's key type name, e.g. ssh-ed25519. */
  caType: string;
  /** The CA's public key blob (the signature key): its fingerprint names the CA. */
  caBlob: Uint8Array;
}

/** A bounds-checked reader of SSH wire data; every read returns null past the end. */
class Reader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.off === this.buf.length;
  }

  u32(): number | null {
    if (this.buf.length - this.off < 4) return null;
    const b = this.buf;
    const o = this.off;
    this.off += 4;
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }

  u64(): bigint | null {
    const hi = this.u32();
    if (hi === null) return null;
    const lo = this.u32();
    if (lo === null) return null;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  bytes(): Uint8Array | null {
    const start = this.off;
    const n = this.u32();
    if (n === null || n > this.buf.length - this.off) {
      this.off = start;
      return null;
    }
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** A string field as UTF-8 text; null when it is not valid UTF-8 (never a replacement character in the log). */
  text(): string | null {
    const b = this.bytes();
    return b === null ? null : utf8(b);
  }

  /** The bytes from `start` to here (for the plain key's fields). */
  span(start: number): Uint8Array {
    return this.buf.subarray(start, this.off);
  }

  get offset(): number {
    return this.off;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
function utf8(b: Uint8Array): string | null {
  try {
    return decoder.decode(b);
  } catch {
    return null;
  }
}

/** A packed list of strings (valid principals); null when it does not read exactly. */
function stringList(buf: Uint8Array): string[] | null {
  const r = new Reader(buf);
  const out: string[] = [];
  while (!r.done) {
    const s = r.text();
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

/** Packed (name, data) pairs; the data of a known option is itself a string. */
function pairs(buf: Uint8Array): { name: string; data: Uint8Array }[] | null {
  const r = new Reader(buf);
  const out: { name: string; data: Uint8Array }[] = [];
  while (!r.done) {
    const name = r.text();
    const data = r.bytes();
    if (name === null || data === null) return null;
    out.push({ name, data });
  }
  return out;
}

/** The value of a critical option: empty data is "", else exactly one string. */
function optionValue(data: Uint8Array): string | null {
  if (data.length === 0) return '';
  const r = new Reader(data);
  const s = r.text();
  return s !== null && r.done ? s : null;
}

function seconds(v: bigint, unbounded: bigint): number | null {
  if (v === unbounded || v > MAX_DATE_SECONDS) return null;
  return Number(v);
}

/** The certificate in `blob` (the decoded base64 of a `TYPE-cert-v01@openssh.com` key), or null when it does not read exactly. */
export function parseCertificate(blob: Uint8Array): Certificate | null {
  const r = new Reader(blob);
  const certType = r.text();
  if (certType === null || !Object.hasOwn(CERT_KEY_FIELDS, certType)) return null;
  const { plain: keyType, fields } = CERT_KEY_FIELDS[certType]!;
  if (r.bytes() === null) return null; // nonce
  const keyStart = r.offset;
  for (let i = 0; i < fields; i++) if (r.bytes() === null) return null;
  const keyFields = r.span(keyStart);
  const serial = r.u64();
  const type = r.u32();
  const keyId = r.text();
  const principalBytes = r.bytes();
  const after = r.u64();
  const before = r.u64();
  const criticalBytes = r.bytes();
  const extensionBytes = r.bytes();
  const reserved = r.bytes();
  const caBlob = r.bytes();
  const signature = r.bytes();
  if (
    serial === null ||
    type !== USER_CERT ||
    keyId === null ||
    principalBytes === null ||
    after === null ||
    before === null ||
    criticalBytes === null ||
    extensionBytes === null ||
    reserved === null ||
    caBlob === null ||
    signature === null ||
    !r.done
  ) {
    return null;
  }
  const principals = stringList(principalBytes);
  const critical = pairs(criticalBytes);
  const extensions = pairs(extensionBytes);
  if (principals === null || critical === null || extensions === null) return null;
  const criticalOptions: Record<string, string> = Object.create(null);
  for (const { name, data } of critical) {
    const value = optionValue(data);
    // A repeated option is malformed (sshd refuses it); a value we cannot read is not guessed at.
    if (value === null || Object.hasOwn(criticalOptions, name)) return null;
    criticalOptions[name] = value;
  }
  const caType = new Reader(caBlob).text();
  if (caType === null || caType === '') return null;
  return {
    certType,
    keyType,
    keyBlob: concat(sshString(keyType), keyFields),
    serial: serial.toString(),
    keyId,
    principals,
    validAfter: seconds(after, 0n),
    validBefore: seconds(before, FOREVER),
    criticalOptions: { ...criticalOptions },
    extensions: extensions.map((e) => e.name),
    caType,
    caBlob,
  };
}

/** Whether a key type name is a certificate's (ends in -cert-v01@openssh.com). */
export function isCertificateType(type: string): boolean {
  return type.endsWith('-cert-v01@openssh.com');
}

function sshString(text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

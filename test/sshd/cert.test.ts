// The certificate parser (src/sshd/cert.ts) against certificates ssh-keygen
// makes, field by field as `ssh-keygen -L` and `ssh-keygen -l` print them,
// and against hostile bytes: random, truncated, extended and mutated blobs
// never throw and never read as a certificate unless they are one exactly.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificate, type Certificate } from '../../src/sshd/cert.js';
import { identify } from '../../src/gate/key.js';

const tmp = mkdtempSync(join(tmpdir(), 'gk-cert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const KEYGEN = '/usr/bin/ssh-keygen';
/** ssh-keygen reads and prints -V times in local time: UTC, so the test compares ISO text. */
const keygen = (args: string[]) => execFileSync(KEYGEN, args, { env: { PATH: '/usr/bin:/bin', TZ: 'UTC' }, encoding: 'utf8' });
const fp = (blob: Uint8Array) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

let n = 0;
function makeKey(type: string, bits?: number): string {
  const file = join(tmp, `k${n++}`);
  keygen(['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'k', '-f', file]);
  return file;
}
const ca = makeKey('ed25519');

/** Sign `key`.pub with `caKey`; returns the certificate's blob and its file. */
function sign(key: string, args: string[], caKey = ca): { blob: Buffer; type: string; file: string } {
  keygen(['-q', '-s', caKey, ...args, `${key}.pub`]);
  const file = `${key}-cert.pub`;
  const [type, b64] = readFileSync(file, 'utf8').trim().split(' ');
  return { blob: Buffer.from(b64!, 'base64'), type: type!, file };
}

/** What `ssh-keygen -L -f cert` says, as fields. */
function listed(file: string) {
  const text = keygen(['-L', '-f', file]);
  const block = (name: string) => {
    const m = new RegExp(`^\\s*${name}:( \\(none\\))?\\s*\\n((?:\\s{16}.*\\n)*)`, 'm').exec(text);
    return m?.[1] ? [] : (m?.[2] ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  };
  return {
    keyId: /Key ID: "(.*)"/.exec(text)![1],
    serial: /Serial: (\d+)/.exec(text)![1],
    valid: /Valid: (.*)/.exec(text)![1],
    ca: /Signing CA: \S+ (SHA256:\S+)/.exec(text)![1],
    publicKey: /Public key: \S+ (SHA256:\S+)/.exec(text)![1],
    principals: block('Principals'),
    critical: block('Critical Options'),
    extensions: block('Extensions'),
  };
}
const fingerprintOf = (pub: string) => keygen(['-l', '-f', pub]).split(' ')[1];
const iso = (s: number | null) => (s === null ? null : new Date(s * 1000).toISOString().replace(/\.000Z$/, ''));

describe('parseCertificate reads what ssh-keygen -s wrote, as ssh-keygen -L reads it', () => {
  it.each([
    ['ed25519', undefined],
    ['rsa', 2048],
    ['ecdsa', 256],
    ['ecdsa', 384],
    ['ecdsa', 521],
  ] as const)('a %s key (%s bits)', (type, bits) => {
    const key = makeKey(type, bits);
    const { blob, file } = sign(key, ['-I', `backup@web-1 ${type}`, '-z', '4242', '-n', 'backup,restore', '-V', '20260101000000:20270102030405']);
    const c = parseCertificate(blob)!;
    expect(c).not.toBeNull();
    const l = listed(file);
    expect(c.keyId).toBe(l.keyId);
    expect(c.serial).toBe(l.serial);
    expect(c.principals).toEqual(l.principals);
    expect(c.principals).toEqual(['backup', 'restore']);
    expect(fp(c.caBlob)).toBe(l.ca);
    expect(fp(c.caBlob)).toBe(fingerprintOf(`${ca}.pub`));
    expect(c.caType).toBe('ssh-ed25519');
    // The certificate's own key: the plain key's fingerprint, as ssh-keygen -l prints for both files.
    expect(fp(c.keyBlob)).toBe(fingerprintOf(`${key}.pub`));
    expect(fp(c.keyBlob)).toBe(l.publicKey);
    expect(Buffer.from(c.keyBlob).toString('base64')).toBe(readFileSync(`${key}.pub`, 'utf8').split(' ')[1]);
    expect(`from ${iso(c.validAfter)} to ${iso(c.validBefore)}`).toBe(l.valid);
    expect(c.validAfter).toBe(Date.UTC(2026, 0, 1) / 1000);
    expect(c.validBefore).toBe(Date.UTC(2027, 0, 2, 3, 4, 5) / 1000);
    expect(c.extensions).toEqual(l.extensions);
    expect(c.criticalOptions).toEqual({});
  });

  it('critical options, no extensions, the largest serial and "forever"', () => {
    const key = makeKey('ed25519');
    const { blob, file } = sign(key, ['-I', 'ops', '-z', '18446744073709551615', '-n', 'root', '-O', 'clear', '-O', 'force-command=/usr/bin/gatekeeper gate --policy x', '-O', 'source-address=127.0.0.1/32,::1']);
    const c = parseCertificate(blob)!;
    const l = listed(file);
    expect(c.serial).toBe('18446744073709551615');
    expect(c.serial).toBe(l.serial);
    expect(l.valid).toBe('forever');
    expect(c.validAfter).toBeNull();
    expect(c.validBefore).toBeNull();
    expect(c.criticalOptions).toEqual({ 'force-command': '/usr/bin/gatekeeper gate --policy x', 'source-address': '127.0.0.1/32,::1' });
    expect(Object.entries(c.criticalOptions).map(([k, v]) => `${k} ${v}`)).toEqual(l.critical);
    expect(c.extensions).toEqual([]);
    expect(l.extensions).toEqual([]);
  });

  it('no principals, serial 0, an RSA CA, a key id with spaces and UTF-8', () => {
    const rsaCa = makeKey('rsa', 2048);
    const key = makeKey('ed25519');
    const { blob, file } = sign(key, ['-I', 'Jürgen Ö. backup', '-V', 'always:20300101'], rsaCa);
    const c = parseCertificate(blob)!;
    const l = listed(file);
    expect(c.keyId).toBe('Jürgen Ö. backup');
    expect(c.serial).toBe('0');
    expect(c.principals).toEqual([]);
    expect(c.caType).toBe('ssh-rsa');
    expect(fp(c.caBlob)).toBe(fingerprintOf(`${rsaCa}.pub`));
    expect(c.validAfter).toBeNull();
    expect(l.valid).toBe('before 2030-01-01T00:00:00');
    expect(c.validBefore).toBe(Date.UTC(2030, 0, 1) / 1000);
  });
});

describe('identify: the key field and the cert field from SSH_USER_AUTH', () => {
  const auth = (text: string) => {
    const file = join(tmp, `auth${n++}`);
    writeFileSync(file, text);
    return file;
  };

  it('a certificate: key is the certificate key\'s own fingerprint (as sshd logs it), cert what it says', async () => {
    const key = makeKey('ed25519');
    const { blob, type } = sign(key, ['-I', 'web-1', '-z', '7', '-n', 'backup', '-V', '20260101:20260201']);
    const id = await identify(auth(`publickey ${type} ${blob.toString('base64')}\n`));
    expect(id).toEqual({
      key: `ssh-ed25519 ${fingerprintOf(`${key}.pub`)}`,
      cert: {
        keyId: 'web-1',
        serial: '7',
        principals: ['backup'],
        ca: `ssh-ed25519 ${fingerprintOf(`${ca}.pub`)}`,
        validAfter: '2026-01-01T00:00:00.000Z',
        validBefore: '2026-02-01T00:00:00.000Z',
        extensions: ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'],
      },
    });
  });

  it('a plain key: its fingerprint only', async () => {
    const key = makeKey('ed25519');
    const [type, b64] = readFileSync(`${key}.pub`, 'utf8').split(' ');
    expect(await identify(auth(`publickey ${type} ${b64}\n`))).toEqual({ key: `ssh-ed25519 ${fingerprintOf(`${key}.pub`)}` });
  });

  it('a malformed certificate: no cert field (fail closed), the blob\'s own fingerprint as before', async () => {
    const key = makeKey('ed25519');
    const { blob, type } = sign(key, ['-I', 'x', '-n', 'backup']);
    const cut = blob.subarray(0, blob.length - 1);
    const id = await identify(auth(`publickey ${type} ${cut.toString('base64')}\n`));
    expect(id).toEqual({ key: `${type} ${fp(cut)}` });
  });

  it('a certificate whose blob is of another type than its line says: no cert field', async () => {
    const key = makeKey('ed25519');
    const { blob } = sign(key, ['-I', 'x', '-n', 'backup']);
    const id = await identify(auth(`publickey ecdsa-sha2-nistp256-cert-v01@openssh.com ${blob.toString('base64')}\n`));
    expect(id.cert).toBeUndefined();
  });

  it('no file, no publickey line: no key', async () => {
    expect(await identify(null)).toEqual({ key: null });
    expect(await identify(join(tmp, 'missing'))).toEqual({ key: null });
    expect(await identify(auth('password\n'))).toEqual({ key: null });
  });
});

// ---- hostile bytes ----------------------------------------------------------

const realKey = makeKey('ed25519');
const real = sign(realKey, ['-I', 'fuzz', '-z', '99', '-n', 'a,b', '-O', 'force-command=/bin/true', '-V', '20260101:20270101']).blob;
const realRsa = sign(makeKey('rsa', 2048), ['-I', 'fuzz-rsa', '-n', 'a']).blob;

/** A result is either null or a certificate whose every field has the right type. */
function wellTyped(c: Certificate | null): boolean {
  if (c === null) return true;
  return (
    typeof c.keyId === 'string' &&
    /^\d+$/.test(c.serial) &&
    Array.isArray(c.principals) &&
    c.principals.every((p) => typeof p === 'string') &&
    (c.validAfter === null || Number.isSafeInteger(c.validAfter)) &&
    (c.validBefore === null || Number.isSafeInteger(c.validBefore)) &&
    c.caBlob.length > 0 &&
    !Number.isNaN(new Date((c.validBefore ?? 0) * 1000).getTime())
  );
}

describe('parseCertificate on hostile bytes never throws and fails closed', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(wellTyped(parseCertificate(bytes))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes after a certificate type name (past the first check)', () => {
    const prefix = real.subarray(0, 4 + real.readUInt32BE(0));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (tail) => {
        expect(wellTyped(parseCertificate(Buffer.concat([prefix, tail])))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['ed25519', real],
    ['rsa', realRsa],
  ])('every truncation of a real %s certificate is no certificate, and neither is one with bytes appended', (_t, blob) => {
    expect(parseCertificate(blob)).not.toBeNull();
    for (let len = 0; len < blob.length; len++) expect(parseCertificate(blob.subarray(0, len)), `length ${len}`).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (extra) => {
        expect(parseCertificate(Buffer.concat([blob, extra]))).toBeNull();
      }),
    );
  });

  it('mutated certificates (bytes changed, inserted, removed) read as null or as a well-typed certificate', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), value: fc.constant(0) }),
      // A length field pushed to its extremes: the classic way to make a reader run off the end.
      fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), value: fc.constantFrom(0xff, 0x7f, 0x80) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(real, realRsa), fc.array(edit, { minLength: 1, maxLength: 4 }), (blob, edits) => {
        const bytes = [...blob];
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          if (e.kind === 'set' && at < bytes.length) bytes[at] = e.value;
          else if (e.kind === 'insert') bytes.splice(at, 0, e.value);
          else if (e.kind === 'remove' && at < bytes.length) bytes.splice(at, 1);
          else if (e.kind === 'huge') bytes.splice(at, 4, e.value, 0xff, 0xff, 0xff);
        }
        expect(wellTyped(parseCertificate(Uint8Array.from(bytes)))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('a host certificate, an unknown type and a key id that is not UTF-8 are no user certificate', () => {
    const hostKey = makeKey('ed25519');
    const host = sign(hostKey, ['-h', '-I', 'host', '-n', 'srv1']).blob;
    expect(parseCertificate(host)).toBeNull();
    // The type name changed to one we do not know (same length, so every other field still reads).
    const unknown = Buffer.from(real);
    unknown.write('x', 4);
    expect(parseCertificate(unknown)).toBeNull();
    // Key id "fuzz" (after nonce, pk, serial, type) with a byte that is not UTF-8.
    const at = real.indexOf(Buffer.from('fuzz'));
    const badText = Buffer.from(real);
    badText[at] = 0xff;
    expect(parseCertificate(badText)).toBeNull();
    expect(parseCertificate(real)!.criticalOptions).toEqual({ 'force-command': '/bin/true' });
  });
});

// ---- certificates built field by field ---------------------------------------

const str = (b: Uint8Array | string) => {
  const body = typeof b === 'string' ? Buffer.from(b) : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
interface Parts {
  /** The certificate type name and its key fields (default: ed25519's one). */
  key?: { certType: string; fields: Buffer[] };
  type?: number;
  after?: bigint;
  before?: bigint;
  critical?: Buffer;
  principals?: Buffer;
}
/** An ed25519 user certificate in the wire format, with the fields a test wants to change. */
function build(p: Parts = {}): Buffer {
  return Buffer.concat([
    str(p.key?.certType ?? 'ssh-ed25519-cert-v01@openssh.com'),
    str(Buffer.alloc(32, 1)), // nonce
    ...(p.key?.fields ?? [Buffer.alloc(32, 2)]).map(str), // pk
    u64(5n),
    u32(p.type ?? 1),
    str('built'),
    str(p.principals ?? Buffer.concat([str('a'), str('b')])),
    u64(p.after ?? 0n),
    u64(p.before ?? (1n << 64n) - 1n),
    str(p.critical ?? Buffer.alloc(0)),
    str(Buffer.concat([str('permit-pty'), str('')])),
    str(''), // reserved
    str(Buffer.concat([str('ssh-ed25519'), str(Buffer.alloc(32, 3))])), // CA key
    str(Buffer.concat([str('ssh-ed25519'), str(Buffer.alloc(64, 4))])), // signature
  ]);
}

describe('parseCertificate on certificates built field by field', () => {
  it('reads the built certificate (the builder is right)', () => {
    expect(parseCertificate(build())).toMatchObject({ keyId: 'built', serial: '5', principals: ['a', 'b'], validAfter: null, validBefore: null, extensions: ['permit-pty'], caType: 'ssh-ed25519' });
  });

  it('a bound beyond what a date can hold is recorded as unbounded; one just inside is kept', () => {
    expect(parseCertificate(build({ before: 1n << 63n }))!.validBefore).toBeNull();
    expect(parseCertificate(build({ before: 8_640_000_000_000n }))!.validBefore).toBe(8_640_000_000_000);
    expect(new Date(8_640_000_000_000 * 1000).toISOString()).toBe('+275760-09-13T00:00:00.000Z');
    expect(parseCertificate(build({ after: 1n, before: 2n }))).toMatchObject({ validAfter: 1, validBefore: 2 });
  });

  it('a repeated critical option, an option whose data is not one string, a host type: null', () => {
    const fc1 = Buffer.concat([str('force-command'), str(str('/bin/true'))]);
    expect(parseCertificate(build({ critical: fc1 }))!.criticalOptions).toEqual({ 'force-command': '/bin/true' });
    expect(parseCertificate(build({ critical: Buffer.concat([fc1, fc1]) }))).toBeNull();
    expect(parseCertificate(build({ critical: Buffer.concat([str('force-command'), str(Buffer.concat([str('/bin/true'), Buffer.from([0])]))]) }))).toBeNull();
    expect(parseCertificate(build({ critical: Buffer.concat([str('force-command'), str('no')]) }))).toBeNull();
    expect(parseCertificate(build({ type: 2 }))).toBeNull();
    // A principal list whose last string runs past its end.
    expect(parseCertificate(build({ principals: Buffer.concat([str('a'), u32(9), Buffer.from('b')]) }))).toBeNull();
  });

  it.each([
    // DSA (gone from OpenSSH 10) and the FIDO types (need a security key to make): their key fields by count.
    ['ssh-dss-cert-v01@openssh.com', 'ssh-dss', 4],
    ['sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 3],
    ['sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com', 2],
  ] as const)('%s: the plain key is %s with %i fields', (certType, plain, count) => {
    const fields = Array.from({ length: count }, (_, i) => Buffer.alloc(8 + i, i + 1));
    const c = parseCertificate(build({ key: { certType, fields } }))!;
    expect(c.keyType).toBe(plain);
    expect(Buffer.from(c.keyBlob)).toEqual(Buffer.concat([str(plain), ...fields.map(str)]));
    // One field fewer or more, and the rest no longer reads.
    expect(parseCertificate(build({ key: { certType, fields: fields.slice(1) } }))).toBeNull();
    expect(parseCertificate(build({ key: { certType, fields: [...fields, Buffer.alloc(1)] } }))).toBeNull();
  });

  it('an option named like an Object prototype property is just a name', () => {
    const c = parseCertificate(build({ critical: Buffer.concat([str('__proto__'), str(str('x')), str('constructor'), str('')]) }))!;
    expect(Object.entries(c.criticalOptions)).toEqual([
      ['__proto__', 'x'],
      ['constructor', ''],
    ]);
  });
});

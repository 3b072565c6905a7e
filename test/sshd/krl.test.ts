// The KRL helpers against the real ssh-keygen: lists made with ssh-keygen -k
// (keys, serials, serial ranges, key IDs, SHA1 and SHA256 hash lines), read
// back through -Q -l and -Q, and the matching audit does per record.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprint, parsePublicKey, type PublicKey } from '../../src/sshd/authorized-keys.js';
import { certRevoked, isKrl, keyRevoked, listKrl, makeEmptyKrl, parseKeyList, parseKrlListing, queryKrl, updateKrl } from '../../src/sshd/krl.js';
import { keyIdProblem, parseSerial } from '../../src/revoke/revoke.js';

const dir = mkdtempSync(join(tmpdir(), 'gk-krl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keygen = (args: string[]) => execFileSync('/usr/bin/ssh-keygen', ['-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const newKey = (name: string): { path: string; key: PublicKey } => {
  const path = join(dir, name);
  keygen(['-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  const key = parsePublicKey(readFileSync(`${path}.pub`, 'utf8'));
  if ('error' in key) throw new Error(key.error);
  return { path, key };
};
const ca = newKey('ca');
const caName = `ssh-ed25519 ${fingerprint(ca.key)}`;
const [k1, k2, k3, k4, k5] = ['k1', 'k2', 'k3', 'k4', 'k5'].map(newKey) as [ReturnType<typeof newKey>, ReturnType<typeof newKey>, ReturnType<typeof newKey>, ReturnType<typeof newKey>, ReturnType<typeof newKey>];
keygen(['-s', ca.path, '-I', 'cert-five', '-n', 'backup', '-z', '8', `${k5.path}.pub`]);

describe('a KRL made and read by ssh-keygen', () => {
  it('starts empty, gains keys, serial ranges, key IDs and hash lines, and lists each as what it revokes', async () => {
    const krl = join(dir, 'krl');
    await makeEmptyKrl(krl);
    expect(isKrl(readFileSync(krl))).toBe(true);
    const empty = await listKrl(krl);
    expect([empty.fingerprints.size, empty.sha1.size, empty.certs.length]).toEqual([0, 0, 0]);
    expect(await queryKrl(krl, [k1.key, k2.key])).toEqual([false, false]);

    await updateKrl(krl, [`${k1.path}.pub`]);
    const spec = join(dir, 'spec');
    writeFileSync(spec, `serial: 7-9\nserial: 42\nid: alice@example.net\nsha1: ${readFileSync(`${k2.path}.pub`, 'utf8')}hash: ${fingerprint(k3.key)}\n`);
    await updateKrl(krl, [spec], `${ca.path}.pub`);
    const l = await listKrl(krl);
    expect(keyRevoked(l, `ssh-ed25519 ${fingerprint(k1.key)}`)).toBe(true);
    expect(keyRevoked(l, fingerprint(k3.key))).toBe(true); // a `hash:` line is listed in hex
    expect(keyRevoked(l, fingerprint(k2.key))).toBe(false); // SHA1 only: the fingerprint alone cannot match…
    expect(keyRevoked(l, fingerprint(k2.key), k2.key.blob)).toBe(true); // …the blob can
    expect(keyRevoked(l, fingerprint(k4.key), k4.key.blob)).toBe(false);
    expect(l.certs).toHaveLength(1);
    expect(l.certs[0]!.ca).toBe(caName);
    expect(l.certs[0]!.serials).toEqual([[7n, 9n], [42n, 42n]]);
    expect([...l.certs[0]!.keyIds]).toEqual(['alice@example.net']);
    for (const [serial, revoked] of [[6, false], [7, true], [9, true], [10, false], [42, true]] as const) expect(certRevoked(l, { ca: caName, serial, keyId: 'x' })).toBe(revoked);
    expect(certRevoked(l, { ca: caName, serial: 0, keyId: 'alice@example.net' })).toBe(true);
    expect(certRevoked(l, { ca: 'ssh-ed25519 SHA256:other', serial: 42, keyId: 'alice@example.net' })).toBe(false);
    expect(certRevoked(l, { ca: caName.replace('ssh-ed25519', 'ED25519'), serial: '42', keyId: 'x' })).toBe(true); // as sshd's log spells the type; serial as record.ts's text
    expect(await queryKrl(krl, [k1.key, k2.key, k3.key, k4.key])).toEqual([true, true, true, false]);
  });

  it('revokes a certificate given as a key by its serial, which -Q then finds', async () => {
    const krl = join(dir, 'krl-cert');
    await makeEmptyKrl(krl);
    await updateKrl(krl, [`${k5.path}-cert.pub`]);
    const l = await listKrl(krl);
    expect(certRevoked(l, { ca: caName, serial: 8, keyId: 'cert-five' })).toBe(true);
    expect(keyRevoked(l, fingerprint(k5.key))).toBe(false); // the key under it is not revoked
  });

  it('fails on a file that is not a KRL, and -Q reports it', async () => {
    const notKrl = join(dir, 'plain');
    writeFileSync(notKrl, readFileSync(`${k1.path}.pub`));
    expect(isKrl(readFileSync(notKrl))).toBe(false);
    await expect(queryKrl(notKrl, [k1.key])).rejects.toThrow(/invalid magic|Invalid KRL/);
    await expect(updateKrl(notKrl, [`${k2.path}.pub`])).rejects.toThrow();
    expect(keyRevoked(parseKeyList(readFileSync(notKrl, 'utf8')), fingerprint(k1.key))).toBe(true);
    expect(keyRevoked(parseKeyList(readFileSync(notKrl, 'utf8')), fingerprint(k2.key))).toBe(false);
  });
});

describe('parseKrlListing', () => {
  it('reads the wildcard section and ignores what it does not know', () => {
    const l = parseKrlListing('# KRL version 3\n# Generated at 20261207T105949\n\n# Wildcard CA\nid: any-ca\nserial: 5\n\nsomething new: x\n');
    expect(l.certs).toEqual([{ ca: null, serials: [[5n, 5n]], keyIds: new Set(['any-ca']) }]);
    expect(certRevoked(l, { ca: 'ssh-ed25519 SHA256:whatever', serial: 99, keyId: 'any-ca' })).toBe(true);
    expect(certRevoked(l, { ca: 'ssh-ed25519 SHA256:whatever', serial: 'not a number', keyId: 'any-ca' })).toBe(false);
  });
});

describe("revoke's inputs", () => {
  it('takes a serial from 1 to 2^64-1, and nothing else', () => {
    expect(parseSerial('1')).toBe(1n);
    expect(parseSerial('18446744073709551615')).toBe(18446744073709551615n);
    for (const bad of ['0', '18446744073709551616', '-1', '1e3', '0x10', ' 1', '']) expect(typeof parseSerial(bad)).toBe('object');
  });
  it('takes a key ID a specification line can carry exactly', () => {
    expect(keyIdProblem('backup@db-1')).toBeNull();
    expect(keyIdProblem('with inner space')).toBeNull();
    for (const bad of ['', 'a#b', 'a\nserial: 1', ' lead', 'trail ', 'tab\t', 'nul\0']) expect(keyIdProblem(bad)).not.toBeNull();
  });
});

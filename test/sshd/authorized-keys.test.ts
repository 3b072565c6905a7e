import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fingerprint,
  formatKeyLine,
  parseAuthorizedKeys,
  parseLine,
  parseOptions,
  parsePublicKey,
  printAuthorizedKeys,
  printOptions,
  quoteOptionValue,
  type KeyLine,
} from '../../src/sshd/authorized-keys.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'authorized_keys');
const mixed = readFileSync(join(FIX, 'mixed'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'gk-ak-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('authorized_keys round trip', () => {
  it('prints every fixture back byte for byte', () => {
    for (const name of ['mixed', ...readdirSync(join(FIX, 'keys')).map((k) => `keys/${k}`)]) {
      const text = readFileSync(join(FIX, name), 'utf8');
      expect(printAuthorizedKeys(parseAuthorizedKeys(text)), name).toBe(text);
    }
  });

  it('prints any text back byte for byte (property)', () => {
    const line = fc.oneof(fc.string(), fc.constantFrom(...mixed.split('\n')));
    fc.assert(
      fc.property(fc.array(line), fc.constantFrom('\n', '\r\n'), fc.boolean(), (lines, nl, trailing) => {
        const text = lines.join(nl) + (trailing ? nl : '');
        expect(printAuthorizedKeys(parseAuthorizedKeys(text))).toBe(text);
      }),
    );
  });
});

describe('authorized_keys grammar (the mixed fixture, line by line)', () => {
  const lines = parseAuthorizedKeys(mixed);
  const table: [number, string, Partial<{ type: string; comment: string; options: [string, string | null][] }> | string][] = [
    [0, 'comment', ''],
    [1, 'blank', ''],
    [2, 'key', { type: 'ssh-rsa', comment: 'admin@laptop', options: [] }],
    [3, 'key', { type: 'ecdsa-sha2-nistp256', options: [['from', '192.0.2.1,198.51.100.0/24'], ['no-pty', null]] }],
    [4, 'key', { type: 'sk-ssh-ed25519@openssh.com', comment: 'quoted@example.net', options: [['command', 'echo "quoted, with a comma" && logger -t x "a,b"'], ['no-port-forwarding', null]] }],
    [5, 'key', { type: 'ssh-ed25519-cert-v01@openssh.com', options: [['environment', 'BACKUP_SET=full,daily'], ['environment', 'LANG=C'], ['restrict', null]] }],
    [6, 'key', { type: 'ssh-ed25519', comment: 'ca@example.net', options: [['cert-authority', null], ['principals', 'root,backup']] }],
    [7, 'comment', ''],
    [8, 'blank', ''],
    [9, 'key', { type: 'ssh-dss', options: [['command', 'rsync --server --daemon .'], ['no-port-forwarding', null], ['no-agent-forwarding', null], ['no-X11-forwarding', null], ['no-pty', null]] }],
    [10, 'key', { type: 'ssh-ed25519', comment: 'comment with   spaces  ', options: [['NO-PTY', null], ['Restrict', null], ['Command', '/bin/true']] }],
    [11, 'invalid', 'missing end quote'],
    [12, 'invalid', 'unknown option bogus-option'],
    [13, 'invalid', 'not valid base64'],
    [14, 'key', { type: 'ecdsa-sha2-nistp256', comment: 'no-trailing-newline', options: [] }],
  ];
  it.each(table)('line %i is %s', (i, kind, want) => {
    const l = lines[i]!;
    expect(l.kind).toBe(kind);
    if (l.kind === 'invalid') expect(l.error).toContain(want as string);
    if (l.kind === 'key' && typeof want === 'object') {
      if (want.type) expect(l.key.type).toBe(want.type);
      if (want.comment !== undefined) expect(l.key.comment).toBe(want.comment);
      if (want.options) expect(l.options.map((o) => [o.name, o.value])).toEqual(want.options);
    }
  });
  it('has no other lines', () => expect(lines).toHaveLength(table.length));
});

describe('agrees with ssh-keygen -l about every key line', () => {
  // ssh-keygen reads authorized_keys lines (skipping options) with OpenSSH's own
  // parser; it does not judge option names, so unknown options are only checked
  // one way: what we call a key, it must call the same key.
  const lines = mixed.split('\n').filter((l) => l !== '');
  it.each(lines.map((l, i) => [i, l] as const))('line %i', (i, raw) => {
    const file = join(tmp, `line${i}`);
    writeFileSync(file, `${raw}\n`);
    const r = spawnSync('/usr/bin/ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' });
    const ours = parseLine(raw);
    if (ours.kind === 'key') {
      expect(r.status, r.stderr).toBe(0);
      if (!ours.key.type.includes('-cert-')) expect(r.stdout.split(' ')[1]).toBe(fingerprint(ours.key));
    }
    if (r.status !== 0) expect(ours.kind).not.toBe('key');
  });
});

describe('option values', () => {
  it('quote and dequote round-trip for every representable value (property)', () => {
    const value = fc.string({ unit: fc.constantFrom('a', ',', '"', '\\', ' ', '\t', '=', 'é', '$', "'") }).filter((v) => !v.endsWith('\\'));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), (values) => {
        const opts = [{ name: 'restrict', value: null }, ...values.map((v) => ({ name: 'command', value: v }))];
        const printed = printOptions(opts);
        const back = parseOptions(`${printed} ssh-ed25519 AAAA`);
        expect(back).toEqual({ options: opts, rest: ' ssh-ed25519 AAAA' });
      }),
    );
  });
  it('refuses what sshd could not read back', () => {
    expect(() => quoteOptionValue('ends with \\')).toThrow(/backslash/);
    expect(() => quoteOptionValue('two\nlines')).toThrow(/newline/);
    expect(quoteOptionValue('say "hi"')).toBe('"say \\"hi\\""');
  });
  it.each([
    ['command="x"x', 'unexpected character'],
    ['command=x', 'missing start quote'],
    ['no-pty,', 'options end with a comma'],
    ['command', 'needs ="value"'],
    ['no-pty;', 'unexpected character'],
  ])('rejects %s', (opts, error) => {
    const r = parseOptions(opts);
    expect('error' in r && r.error).toContain(error);
  });
});

describe('public keys', () => {
  it('reads .pub files and formats a key line sshd accepts', () => {
    for (const f of readdirSync(join(FIX, 'keys'))) {
      const key = parsePublicKey(readFileSync(join(FIX, 'keys', f), 'utf8'));
      expect('error' in key, f).toBe(false);
      if ('error' in key) continue;
      const line = formatKeyLine([{ name: 'restrict', value: null }, { name: 'command', value: '/usr/local/bin/gatekeeper gate --policy p' }], key);
      const parsed = parseLine(line) as KeyLine;
      expect(parsed.kind).toBe('key');
      expect(parsed.key).toEqual(key);
      const file = join(tmp, `fmt-${f}`);
      writeFileSync(file, `${line}\n`);
      expect(execFileSync('/usr/bin/ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' })).toContain('SHA256:');
    }
  });
  it('says why a file is not a public key', () => {
    expect(parsePublicKey('')).toEqual({ error: 'no public key found' });
    expect(parsePublicKey('-----BEGIN OPENSSH PRIVATE KEY-----\n')).toMatchObject({ error: expect.stringContaining('unknown option') });
  });
});

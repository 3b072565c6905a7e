// gatekeeper revoke through the CLI without an sshd: which list, what it
// refuses, --dry-run and --json, and that a refusal leaves the list's bytes.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../install/setup.js';

const dir = mkdtempSync(join(tmpdir(), 'gk-revoke-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keygen = (args: string[]) => execFileSync('/usr/bin/ssh-keygen', ['-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
keygen(['-t', 'ed25519', '-N', '', '-C', 'user', '-f', join(dir, 'user')]);
keygen(['-t', 'ed25519', '-N', '', '-C', 'ca', '-f', join(dir, 'ca')]);
keygen(['-s', join(dir, 'ca'), '-I', 'id-1', '-n', 'backup', '-z', '5', join(dir, 'user.pub')]);
const krl = join(dir, 'krl');
keygen(['-k', '-f', krl]);
// No sshd_config here: revoke warns that it cannot ask sshd, and goes on.
const base = ['--config-dir', join(dir, 'etc-gatekeeper'), '--sshd-config', join(dir, 'no-sshd_config')];

describe('gatekeeper revoke', () => {
  it('refuses unclear requests (64)', () => {
    for (const args of [[], ['--key', join(dir, 'user.pub'), '--serial', '1'], ['--serial', '1'], ['--key-id', 'x'], ['--key', join(dir, 'user.pub'), '--ca', join(dir, 'ca.pub')], ['--serial', '0', '--ca', join(dir, 'ca.pub')], ['--key-id', 'a#b', '--ca', join(dir, 'ca.pub')], ['--serial', '1', '--ca', join(dir, 'user-cert.pub')], ['--key', join(dir, 'krl')]]) {
      const r = cli(['revoke', ...args, '--revoked-keys', krl, ...base]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(64);
      expect(r.stderr).toMatch(/^gatekeeper: /);
    }
  });
  it('refuses (78) when no list is recorded or named, a missing list, a symlink, a plain list, one others can write', () => {
    const none = cli(['revoke', '--key', join(dir, 'user.pub'), ...base]);
    expect(none.status).toBe(78);
    expect(none.stderr).toContain('--revoked-keys FILE');
    expect(cli(['revoke', '--key', join(dir, 'user.pub'), '--revoked-keys', join(dir, 'missing'), ...base]).stderr).toContain('install --revoked-keys');
    symlinkSync(krl, join(dir, 'link'));
    const plain = join(dir, 'plain');
    writeFileSync(plain, readFileSync(join(dir, 'ca.pub')));
    const open = join(dir, 'open');
    mkdirSync(open);
    writeFileSync(join(open, 'krl'), readFileSync(krl));
    chmodSync(open, 0o777);
    for (const [list, why] of [[join(dir, 'missing'), 'does not exist'], [join(dir, 'link'), 'symlink'], [plain, 'not a KRL'], [join(open, 'krl'), 'writable by group or others']] as const) {
      const r = cli(['revoke', '--key', join(dir, 'user.pub'), '--revoked-keys', list, ...base]);
      expect(r.status, r.stderr).toBe(78);
      expect(r.stderr).toContain(why);
    }
    expect(readFileSync(plain).equals(readFileSync(join(dir, 'ca.pub')))).toBe(true);
  });
  it('leaves a damaged KRL as it is when ssh-keygen cannot read it (78)', () => {
    const damaged = join(dir, 'damaged');
    keygen(['-k', '-f', damaged, join(dir, 'ca.pub')]);
    const bytes = readFileSync(damaged).subarray(0, 50);
    writeFileSync(damaged, bytes);
    const r = cli(['revoke', '--key', join(dir, 'user.pub'), '--revoked-keys', damaged, ...base]);
    expect(r.status, r.stderr).toBe(78);
    expect(r.stderr).toContain(`ssh-keygen cannot read ${damaged}`);
    expect(readFileSync(damaged).equals(bytes)).toBe(true);
  });
  it('--dry-run changes nothing; then --key, --serial and --key-id each revoke once, reported in --json', () => {
    const before = readFileSync(krl);
    const d = cli(['revoke', '--key', join(dir, 'user.pub'), '--revoked-keys', krl, '--dry-run', '--json', ...base]);
    expect(d.status, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ version: 1, command: 'revoke', dryRun: true, changed: true, file: krl, revoked: { kind: 'key', type: 'ssh-ed25519', comment: 'user' } });
    expect(d.stderr).toContain('could not ask sshd');
    expect(readFileSync(krl).equals(before)).toBe(true);
    const caFp = execFileSync('/usr/bin/ssh-keygen', ['-l', '-f', join(dir, 'ca.pub')], { encoding: 'utf8' }).split(' ')[1];
    for (const [args, revoked] of [
      [['--key', join(dir, 'user.pub')], { kind: 'key' }],
      [['--serial', '77', '--ca', join(dir, 'ca.pub')], { kind: 'serial', serial: '77', ca: `ssh-ed25519 ${caFp}` }],
      [['--key-id', 'id-2', '--ca', join(dir, 'ca.pub')], { kind: 'key-id', keyId: 'id-2', ca: `ssh-ed25519 ${caFp}` }],
    ] as const) {
      const r = cli(['revoke', ...args, '--revoked-keys', krl, '--json', ...base]);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, changed: true, revoked });
      const bytes = readFileSync(krl);
      const again = cli(['revoke', ...args, '--revoked-keys', krl, '--json', ...base]);
      expect(JSON.parse(again.stdout).changed).toBe(false);
      expect(readFileSync(krl).equals(bytes)).toBe(true);
    }
    const listing = execFileSync('/usr/bin/ssh-keygen', ['-Q', '-l', '-f', krl], { encoding: 'utf8' });
    expect(listing).toContain('serial: 77');
    expect(listing).toContain('id: id-2');
    // The certificate (serial 5, id-1) is revoked through the key it certifies.
    expect(() => execFileSync('/usr/bin/ssh-keygen', ['-Q', '-f', krl, join(dir, 'user-cert.pub')])).toThrow();
    expect(readFileSync(krl).subarray(0, 8).toString('latin1')).toBe('SSHKRL\n\0');

    // audit, with this list: a session whose certificate (record.cert) has a revoked serial or key ID is marked, others not.
    const cert = (serial: string, keyId: string) => ({ keyId, serial, principals: ['backup'], ca: `ssh-ed25519 ${caFp}`, validAfter: null, validBefore: null });
    const rec = (session: string, c: ReturnType<typeof cert>) =>
      JSON.stringify({ level: 30, time: 1796649330000, pid: 1, hostname: 'srv1', v: 2, event: 'allow', policy: 'backup', session, user: 'root', client: null, server: null, key: 'ssh-ed25519 SHA256:notrevoked', cert: c, command: 'rsync --server --sender . /', argv: null, msg: 'allowed' });
    const log = join(dir, 'audit.log');
    writeFileSync(log, [rec('s77', cert('77', 'other')), rec('sid', cert('1000', 'id-2')), rec('s78', cert('78', 'other'))].join('\n') + '\n');
    const a = cli(['audit', '--log', log, '--revoked-keys', krl, '--json', '--policy-dir', join(dir, 'no-policies')]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout.trim().split('\n').map((l) => [JSON.parse(l).session, JSON.parse(l).revoked ?? false])).toEqual([['s77', true], ['sid', true], ['s78', false]]);
  });
});

// Revocation, for real: a private sshd with a CA (TrustedUserCAKeys and root's
// AuthorizedPrincipalsFile set up by hand in its own sshd_config, in a Match
// block), a plain key installed by `gatekeeper install`, then
// `install --revoked-keys` writing RevokedKeys into that sshd_config. Pulls
// through the plain key and two certificates go through the gate; each is
// revoked in turn (`revoke --key`, `--serial`, `--key-id`) and the next
// session with it is refused by sshd itself, while the others still work;
// `keys` marks the revoked key.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine } from '../../src/sshd/authorized-keys.js';
import { describeRun, GATEKEEPER, makePrivateDir, RSYNC, run, SSH, startSshd, SYSTEM_NODE, writePolicy, type Sshd } from '../helpers/sshd.js';
import { diffSnapshots, snapshot } from '../helpers/tree.js';
import { waitUntil } from '../helpers/wait.js';
import { cli } from '../install/setup.js';

let sshd: Sshd | undefined;
let dir: string | undefined;
afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeAll(() => {
  if (!existsSync(GATEKEEPER)) throw new Error(`${GATEKEEPER} is missing: run npm run build first`);
});

const listening = (s: Sshd) => s.sshdLog().split('Server listening on').length - 1;
/** SIGHUP the private sshd (never the machine's: install runs with --no-reload) and wait for it to listen again. */
async function reload(s: Sshd): Promise<void> {
  const before = listening(s);
  process.kill(s.pid, 'SIGHUP');
  await waitUntil(() => listening(s) > before, () => (/fatal|terminating/i.test(s.sshdLog()) ? `sshd did not restart after SIGHUP:\n${s.sshdLog()}` : null));
}

const keygen = (args: string[]) => execFileSync('/usr/bin/ssh-keygen', ['-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

describe('revocation with a real sshd', () => {
  it('refuses, in sshd, the next session of a key revoked with --key, of certificates revoked with --serial and --key-id; keys marks it', async () => {
    dir = makePrivateDir('gk-revoke-data-');
    // The CA and two certificates for principal "backup", set up as a CA operator would.
    const ca = join(dir, 'ca');
    keygen(['-t', 'ed25519', '-N', '', '-C', 'test-ca', '-f', ca]);
    const certKey = (name: string, id: string, serial: number) => {
      const k = join(dir!, name);
      keygen(['-t', 'ed25519', '-N', '', '-C', name, '-f', k]);
      keygen(['-s', ca, '-I', id, '-n', 'backup', '-z', String(serial), k + '.pub']);
      return k;
    };
    const certA = certKey('host-a', 'backup-a@example.net', 101);
    const certB = certKey('host-b', 'backup-b@example.net', 202);
    const principals = join(dir, 'principals');
    mkdirSync(principals, { mode: 0o755 });

    sshd = await startSshd({
      prefix: 'gk-revoke-',
      extraConfig: [`TrustedUserCAKeys ${ca}.pub`, 'Match User root', `  AuthorizedPrincipalsFile ${principals}/%u`],
    });
    const src = join(dir, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    const past = new Date('2024-01-02T03:04:05Z');
    for (const p of ['etc/hosts', 'etc', '.']) utimesSync(join(src, p), past, past);
    const log = join(dir, 'log', 'gatekeeper.log');
    const policy = writePolicy(join(dir, 'policy-src'), 'pull', { root: src, log, access: 'read-only' });
    const configDir = join(dir, 'etc-gatekeeper');
    mkdirSync(join(dir, 'logrotate.d'));
    const paths = ['--sshd-config', sshd.config, '--config-dir', configDir];

    // The plain key, installed by install; the principals file gets the same forced command.
    const inst = cli(['install', '--policy', policy, '--key', `${sshd.clientKey}.pub`, ...paths, '--authorized-keys', sshd.authorizedKeys, '--prefix', join(dir, 'prefix'), '--logrotate-dir', join(dir, 'logrotate.d'), '--node', SYSTEM_NODE, '--no-reload']);
    expect(inst.status, inst.stderr).toBe(0);
    const line = parseLine(readFileSync(sshd.authorizedKeys, 'utf8').trim());
    if (line.kind !== 'key') throw new Error('install wrote no key line');
    const command = line.options.find((o) => o.name === 'command')!.value!;
    writeFileSync(join(principals, 'root'), `restrict,command="${command}" backup\n`, { mode: 0o644 });

    // The list, as install writes it into this sshd_config (before the Match block).
    const krl = join(dir, 'revoked_keys');
    const rk = cli(['install', '--revoked-keys', krl, ...paths, '--no-reload', '--json']);
    expect(rk.status, rk.stderr).toBe(0);
    expect(JSON.parse(rk.stdout)).toMatchObject({ changed: true, files: [{ path: krl, action: 'created' }, { path: sshd.config, action: 'updated' }] });
    const config = readFileSync(sshd.config, 'utf8');
    expect(config.indexOf(`\nRevokedKeys ${krl}\n`)).toBeGreaterThan(-1);
    expect(config.indexOf(`\nRevokedKeys ${krl}\n`)).toBeLessThan(config.indexOf('\nMatch User root\n'));
    expect(readFileSync(krl).subarray(0, 8).toString('latin1')).toBe('SSHKRL\n\0');
    await reload(sshd);

    // Each identity's pull: ssh with only that key (and its certificate).
    const pull = (key: string, cert: boolean, to: string) => {
      const opts = [...sshd!.sshOptions];
      opts[opts.indexOf('-i') + 1] = key;
      const shell = [SSH, ...opts, ...(cert ? ['-o', `CertificateFile=${key}-cert.pub`] : [])].join(' ');
      return run(RSYNC, ['-e', shell, '-a', `root@127.0.0.1:${src}/`, `${join(dir!, to)}/`]);
    };
    const works = async (key: string, cert: boolean, to: string) => {
      const r = await pull(key, cert, to);
      expect(r.code, `${describeRun(r)}\n${sshd!.sshdLog()}`).toBe(0);
      expect(diffSnapshots(snapshot(src), snapshot(join(dir!, to)))).toEqual([]);
    };
    const refused = async (key: string, cert: boolean, to: string) => {
      const r = await pull(key, cert, to);
      expect(r.code, describeRun(r)).not.toBe(0);
      expect(r.stderr).toContain('Permission denied');
      expect(existsSync(join(dir!, to))).toBe(false);
    };
    await works(sshd.clientKey, false, 'plain-1');
    await works(certA, true, 'a-1');
    await works(certB, true, 'b-1');
    const keysBefore = cli(['keys', '--config-dir', configDir, '--json']);
    expect(keysBefore.status, keysBefore.stderr).toBe(0);
    expect(JSON.parse(keysBefore.stdout).keys).toMatchObject([{ policy: 'pull', revoked: false }]);

    // --key: the plain key.
    const r1 = cli(['revoke', '--key', `${sshd.clientKey}.pub`, ...paths, '--json']);
    expect(r1.status, r1.stderr).toBe(0);
    expect(JSON.parse(r1.stdout)).toMatchObject({ command: 'revoke', changed: true, file: krl, revoked: { kind: 'key' } });
    expect(r1.stderr).not.toContain('warning');
    await refused(sshd.clientKey, false, 'plain-2');
    const revokedLines = () => sshd!.sshdLog().split('\n').filter((l) => l.includes(`revoked by file ${krl}`)).length;
    expect(revokedLines()).toBe(1);
    await works(certA, true, 'a-2');
    const keysAfter = cli(['keys', '--config-dir', configDir]);
    expect(keysAfter.stdout).toContain('(revoked)');
    expect(JSON.parse(cli(['keys', '--config-dir', configDir, '--json']).stdout).keys).toMatchObject([{ revoked: true }]);
    // audit marks the sessions of the key revoked now (the list install recorded, read once), and no other.
    const fp = `ssh-ed25519 ${execFileSync('/usr/bin/ssh-keygen', ['-l', '-f', `${sshd.clientKey}.pub`], { encoding: 'utf8' }).split(' ')[1]}`;
    const audited = cli(['audit', '--log', log, '--policy-dir', join(configDir, 'policies'), '--json']);
    expect(audited.status, audited.stderr).toBe(0);
    const recs = audited.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key?: string; revoked?: boolean; event: string });
    const plainSessions = recs.filter((x) => x.key === fp);
    expect(plainSessions.length).toBeGreaterThan(0);
    expect(plainSessions.every((x) => x.revoked === true)).toBe(true);
    const others = recs.filter((x) => x.key !== fp);
    expect(others.length).toBeGreaterThan(0);
    expect(others.some((x) => x.revoked !== undefined)).toBe(false);
    const tableView = cli(['audit', '--log', log, '--policy-dir', join(configDir, 'policies')]);
    expect(tableView.stdout.split('\n').filter((l) => l.includes('[key revoked now]')).length).toBe(plainSessions.length);
    // Again: nothing changes, not a byte.
    const bytes = readFileSync(krl);
    const again = cli(['revoke', '--key', `${sshd.clientKey}.pub`, ...paths, '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).changed).toBe(false);
    expect(readFileSync(krl).equals(bytes)).toBe(true);

    // --serial: certificate A only.
    const r2 = cli(['revoke', '--serial', '101', '--ca', `${ca}.pub`, ...paths]);
    expect(r2.status, r2.stderr).toBe(0);
    await refused(certA, true, 'a-3');
    expect(revokedLines()).toBe(2);
    await works(certB, true, 'b-2');

    // --key-id: certificate B.
    const r3 = cli(['revoke', '--key-id', 'backup-b@example.net', '--ca', `${ca}.pub`, ...paths]);
    expect(r3.status, r3.stderr).toBe(0);
    await refused(certB, true, 'b-3');
    expect(revokedLines()).toBe(3);
    // audit now marks every session: the plain key's by key, the certificates' by serial and by key ID (record.cert).
    const all = cli(['audit', '--log', log, '--policy-dir', join(configDir, 'policies'), '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { revoked?: boolean; cert?: { serial: string } });
    expect([...new Set(all.filter((x) => x.cert).map((x) => x.cert!.serial))].sort()).toEqual(['101', '202']);
    expect(all.every((x) => x.revoked === true)).toBe(true);

    // uninstall --revoked-keys: the line goes, the list stays; sshd then reads no list and the key is back.
    const u = cli(['uninstall', '--revoked-keys', ...paths, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(sshd.config, 'utf8')).not.toContain('RevokedKeys');
    expect(existsSync(krl)).toBe(true);
    await reload(sshd);
    await works(sshd.clientKey, false, 'plain-3');
  }, 240_000);
});

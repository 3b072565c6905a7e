// Certificates for real, the way OpenSSH's own regress tests exercise them
// (cert-userkey.sh): a CA made with ssh-keygen, certificates signed with
// `ssh-keygen -s`, a private sshd on loopback configured by exactly what
// `gatekeeper install --ca` writes into its sshd_config. Two principals with
// two policies and a plain key side by side: every pull is decided by its
// own policy; sshd itself refuses a certificate past its validity and one
// for a principal that is not listed, and one whose own force-command differs
// from the principals line's command; uninstall --principal / --ca leave the
// files as they were before install.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, GATEKEEPER, makePrivateDir, RSYNC, run, SSH, startSshd, SYSTEM_NODE, writePolicy, type Sshd } from '../helpers/sshd.js';
import { waitUntil } from '../helpers/wait.js';
import { cli, tree } from './setup.js';

const KEYGEN = '/usr/bin/ssh-keygen';

let sshd: Sshd;
let dir: string;

const listening = (s: Sshd) => s.sshdLog().split('Server listening on').length - 1;
async function restarted(s: Sshd, before: number): Promise<void> {
  await waitUntil(() => listening(s) > before, () => (/fatal|terminating/i.test(s.sshdLog()) ? `sshd did not restart after SIGHUP:\n${s.sshdLog()}` : null));
}

/** A key pair in dir; with `cert`, a certificate signed by the CA (`ssh-keygen -s CA -I ID -n PRINCIPAL -z SERIAL -V VALIDITY`). */
function keyPair(name: string, cert?: { id: string; principal: string; serial: number; validity: string }): string {
  const key = join(dir, name);
  execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  if (cert) execFileSync(KEYGEN, ['-q', '-s', join(dir, 'ca'), '-I', cert.id, '-n', cert.principal, '-z', String(cert.serial), '-V', cert.validity, `${key}.pub`]);
  return key;
}

/** rsync through the private sshd with this key only (and its certificate, when there is one). */
function pull(key: string, from: string, to: string) {
  const opts = [...sshd.sshOptions];
  opts.splice(opts.indexOf('-i'), 2, '-i', key);
  if (existsSync(`${key}-cert.pub`)) opts.push('-o', `CertificateFile=${key}-cert.pub`);
  return run(RSYNC, ['-e', [SSH, ...opts].join(' '), '-a', `root@127.0.0.1:${from}`, `${to}/`]);
}

beforeAll(async () => {
  if (!existsSync(GATEKEEPER)) throw new Error(`${GATEKEEPER} is missing: run npm run build first`);
  sshd = await startSshd({ prefix: 'gk-ca-e2e-' });
  dir = makePrivateDir('gk-ca-e2e-data-');
  // The harness switches principals files off; a server without that line is the ordinary case.
  const config = readFileSync(sshd.config, 'utf8');
  expect(config).toContain('\nAuthorizedPrincipalsFile none\n');
  writeFileSync(sshd.config, config.replace('\nAuthorizedPrincipalsFile none\n', '\n'));
  const n = listening(sshd);
  process.kill(sshd.pid, 'SIGHUP');
  await restarted(sshd, n);
});
afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('install --ca into a running sshd, then certificates for real', () => {
  it('decides each certificate by its principal\'s policy, lets sshd refuse the rest, and uninstall undoes it', async () => {
    const past = new Date('2024-01-02T03:04:05Z');
    for (const [sub, file] of [['a', 'only-a.txt'], ['b', 'only-b.txt']] as const) {
      mkdirSync(join(dir, 'data', sub), { recursive: true });
      writeFileSync(join(dir, 'data', sub, file), `${sub}\n`);
      utimesSync(join(dir, 'data', sub, file), past, past);
    }
    const a = join(dir, 'data', 'a');
    const b = join(dir, 'data', 'b');
    const log = join(dir, 'log', 'gatekeeper.log');
    const polA = writePolicy(join(dir, 'policy-src'), 'only-a', { root: a, log, access: 'read-only' });
    const polB = writePolicy(join(dir, 'policy-src'), 'only-b', { root: b, log, access: 'read-only' });
    execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'backup-ca', '-f', join(dir, 'ca')]);
    const alice = keyPair('alice', { id: 'alice-laptop', principal: 'alice', serial: 11, validity: '-5m:+1h' });
    const bob = keyPair('bob', { id: 'bob-backup', principal: 'bob', serial: 12, validity: '-5m:+1h' });
    const expired = keyPair('expired', { id: 'alice-old', principal: 'alice', serial: 13, validity: '20200101:20200102' });
    const carol = keyPair('carol', { id: 'carol', principal: 'carol', serial: 14, validity: '-5m:+1h' });

    const etc = join(dir, 'etc-ssh');
    mkdirSync(etc, { mode: 0o755 });
    const caFile = join(etc, 'gatekeeper_user_ca.pub');
    const principalsDir = join(etc, 'gatekeeper_principals');
    const paths = ['--sshd-config', sshd.config, '--authorized-keys', sshd.authorizedKeys, '--prefix', join(dir, 'prefix'), '--config-dir', join(dir, 'etc-gatekeeper')];
    const where = ['--node', SYSTEM_NODE, '--logrotate-dir', join(dir, 'logrotate'), '--ca-file', caFile, '--principals-dir', principalsDir];
    mkdirSync(join(dir, 'logrotate'));
    const configBefore = readFileSync(sshd.config, 'utf8');
    const etcBefore = tree(etc);

    const n = listening(sshd);
    const r1 = cli(['install', '--ca', join(dir, 'ca.pub'), '--principal', 'alice', '--policy', polA, ...paths, ...where]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/reloaded sshd \(SIGHUP to pid \d+\)/);
    await restarted(sshd, n);
    const etcAfterAlice = tree(etc);
    const r2 = cli(['install', '--ca', join(dir, 'ca.pub'), '--principal', 'bob', '--policy', polB, ...paths, ...where]);
    expect(r2.status, r2.stderr).toBe(0);
    // The same CA again: its file is unchanged, and so is sshd's configuration (no reload).
    expect(r2.stdout).not.toContain(caFile);
    expect(r2.stdout).not.toMatch(/reloaded sshd/);
    const r3 = cli(['install', '--key', `${sshd.clientKey}.pub`, '--policy', polA, ...paths, '--node', SYSTEM_NODE, '--logrotate-dir', join(dir, 'logrotate')]);
    expect(r3.status, r3.stderr).toBe(0);
    expect(readFileSync(caFile, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(principalsDir, 'root'), 'utf8')).toMatch(/^restrict,command="[^"]+ gate --policy only-a [^"]*" alice\nrestrict,command="[^"]+ gate --policy only-b [^"]*" bob\n$/);

    // alice's certificate: only-a. bob's: only-b. The plain key: only-a.
    const out = (name: string) => join(dir, 'out', name);
    mkdirSync(join(dir, 'out'));
    const okA = await pull(alice, `${a}/`, out('alice-a'));
    expect(okA.code, `${describeRun(okA)}\n${sshd.sshdLog()}`).toBe(0);
    expect(readFileSync(join(out('alice-a'), 'only-a.txt'), 'utf8')).toBe('a\n');
    expect(sshd.sshdLog()).toMatch(/Accepted certificate ID "alice-laptop" \(serial 11\) signed by ED25519 CA/);
    const noB = await pull(alice, `${b}/`, out('alice-b'));
    expect(noB.code).not.toBe(0);
    // The gate confines the path to the policy's root: /data/b is looked for inside /data/a.
    expect(noB.stderr).toContain(`${a}${b}`);
    expect(existsSync(join(out('alice-b'), 'only-b.txt'))).toBe(false);

    const okB = await pull(bob, `${b}/`, out('bob-b'));
    expect(okB.code, describeRun(okB)).toBe(0);
    expect(readFileSync(join(out('bob-b'), 'only-b.txt'), 'utf8')).toBe('b\n');
    expect(sshd.sshdLog()).toMatch(/Accepted certificate ID "bob-backup" \(serial 12\) signed by ED25519 CA/);
    const noA = await pull(bob, `${a}/`, out('bob-a'));
    expect(noA.code).not.toBe(0);
    expect(noA.stderr).toContain(`${b}${a}`);
    expect(existsSync(join(out('bob-a'), 'only-a.txt'))).toBe(false);

    const plain = await pull(sshd.clientKey, `${a}/`, out('plain-a'));
    expect(plain.code, describeRun(plain)).toBe(0);
    const plainB = await pull(sshd.clientKey, `${b}/`, out('plain-b'));
    expect(plainB.code).not.toBe(0);

    // sshd itself refuses a certificate past its validity and one whose principal is not listed.
    for (const [key, why] of [[expired, /Certificate invalid: expired/], [carol, /does not contain an authorized principal/]] as const) {
      const seen = sshd.sshdLog().length;
      const r = await pull(key, `${a}/`, out('refused'));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
      expect(sshd.sshdLog().slice(seen)).toMatch(why);
    }
    expect(existsSync(out('refused'))).toBe(false);

    // A certificate's own force-command (ssh-keygen -O force-command=…) combines with the
    // principals line's command= only when the two are the same string (auth-options.c).
    const lineCommand = /command="([^"]+)" alice/.exec(readFileSync(join(principalsDir, 'root'), 'utf8'))?.[1];
    expect(lineCommand).toBeDefined();
    const same = keyPair('same');
    execFileSync(KEYGEN, ['-q', '-s', join(dir, 'ca'), '-I', 'alice-forced', '-n', 'alice', '-z', '15', '-V', '-5m:+1h', '-O', `force-command=${lineCommand}`, `${same}.pub`]);
    const forced = await pull(same, `${a}/`, out('forced-same'));
    expect(forced.code, describeRun(forced)).toBe(0);
    const other = keyPair('other');
    execFileSync(KEYGEN, ['-q', '-s', join(dir, 'ca'), '-I', 'alice-other', '-n', 'alice', '-z', '16', '-V', '-5m:+1h', '-O', 'force-command=/usr/bin/id', `${other}.pub`]);
    const seen = sshd.sshdLog().length;
    const differ = await pull(other, `${a}/`, out('forced-other'));
    expect(differ.code).not.toBe(0);
    expect(differ.stderr).toMatch(/Permission denied/);
    expect(sshd.sshdLog().slice(seen)).toContain('forced command options do not match');

    // uninstall --principal bob: the principals file is as alice's install left it; bob's certificate stops working.
    const u1 = cli(['uninstall', '--principal', 'bob', ...paths, '--no-reload']);
    expect(u1.status, u1.stderr).toBe(0);
    expect(tree(etc)).toEqual(etcAfterAlice);
    const gone = await pull(bob, `${b}/`, out('bob-gone'));
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/Permission denied/);

    // The last principal, then the CA: every file as before install, sshd_config byte for byte.
    const m = listening(sshd);
    for (const args of [['--principal', 'alice'], ['--ca', join(dir, 'ca.pub')]]) {
      const u = cli(['uninstall', ...args, ...paths]);
      expect(u.status, u.stderr).toBe(0);
    }
    await restarted(sshd, m);
    expect(tree(etc)).toEqual(etcBefore);
    expect(readFileSync(sshd.config, 'utf8')).toBe(configBefore);
    const after = await pull(alice, `${a}/`, out('alice-gone'));
    expect(after.code).not.toBe(0);
    // The plain key is untouched by all of it.
    const still = await pull(sshd.clientKey, `${a}/`, out('plain-again'));
    expect(still.code, describeRun(still)).toBe(0);
  }, 180_000);
});

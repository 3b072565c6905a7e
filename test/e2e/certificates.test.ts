// Who came, for real: a private sshd that trusts a CA made with ssh-keygen
// (TrustedUserCAKeys), maps principals to the gate's command per policy
// (AuthorizedPrincipalsFile) and exposes the key used (ExposeAuthInfo). Two
// certificates with known -I/-z/-n/-V and a plain key pull through the gate;
// the log names each certificate exactly as ssh-keygen -L and -l do, the
// plain key gets only its fingerprint, and `audit --key-id` filters by it.
// The configuration is written here, not by `install --ca` (tested there).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizedKeysLine, describeRun, deployBundle, gateCommand, makePrivateDir, readLog, run, startSshd, writePolicy, SSH, RSYNC, type Sshd } from '../helpers/sshd.js';

const KEYGEN = '/usr/bin/ssh-keygen';
const keygen = (args: string[]) => execFileSync(KEYGEN, args, { env: { PATH: '/usr/bin:/bin', TZ: 'UTC' }, encoding: 'utf8' });
/** `SHA256:…` as ssh-keygen -l prints it for a public key or certificate file. */
const fingerprintOf = (file: string) => keygen(['-l', '-f', file]).split(' ')[1]!;

describe('certificates: the gate records who came, audit filters by it', () => {
  let sshd: Sshd;
  let conf: string;
  let log: string;
  let gatekeeper: string;
  let ca: string;
  let webCommand: string;
  const trees: Record<string, string> = {};
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    // sshd's files for the CA and the principals, root-owned 0700/0600 (StrictModes checks them).
    conf = makePrivateDir('gk-e2e-cert-conf-');
    ca = join(conf, 'user_ca');
    keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'gatekeeper test CA', '-f', ca]);
    writeFileSync(join(conf, 'trusted_user_ca.pub'), readFileSync(`${ca}.pub`), { mode: 0o600 });
    mkdirSync(join(conf, 'principals'), { mode: 0o700 });
    sshd = await startSshd({
      prefix: 'gk-e2e-cert-',
      // The harness sets AuthorizedPrincipalsFile none; a Match block's value overrides a global one.
      extraConfig: [`TrustedUserCAKeys ${join(conf, 'trusted_user_ca.pub')}`, 'Match User root', `  AuthorizedPrincipalsFile ${join(conf, 'principals', '%u')}`],
    });
    gatekeeper = await deployBundle(join(sshd.dir, 'gatekeeper'));
    log = join(sshd.dir, 'log', 'gatekeeper.log');
    mkdirSync(join(sshd.dir, 'log'), { mode: 0o700 });

    // Two policies, each pulling its own tree: a session is decided by its principal's policy.
    const command: Record<string, string> = {};
    for (const name of ['web', 'db']) {
      trees[name] = join(sshd.dir, `tree-${name}`);
      mkdirSync(trees[name]!, { mode: 0o755 });
      writeFileSync(join(trees[name]!, `${name}.txt`), `${name}\n`);
      const policy = writePolicy(join(sshd.dir, 'policies'), name, { access: 'read-only', root: trees[name]!, log, stateDir: join(sshd.dir, 'state') });
      command[name] = gateCommand({ policy, gatekeeper });
    }
    mkdirSync(join(sshd.dir, 'state'), { mode: 0o700 });
    webCommand = command.web!;
    writeFileSync(join(conf, 'principals', 'root'), [authorizedKeysLine(command.web!, 'backup-web'), authorizedKeysLine(command.db!, 'backup-db'), ''].join('\n'), { mode: 0o600 });
    // The plain key: the harness's own, in authorized_keys, with the web policy.
    sshd.setAuthorizedKeys([authorizedKeysLine(command.web!, sshd.clientPublicKey)]);

    // Certificate keys: a certificate next to its key (ssh loads KEY-cert.pub with -i KEY).
    for (const [name, args] of [
      ['web', ['-I', 'backup@web-1', '-z', '101', '-n', 'backup-web', '-V', '-1h:+1d']],
      ['db', ['-I', 'backup@db-2', '-z', '18446744073709551614', '-n', 'backup-db,unused', '-V', 'always:forever']],
    ] as const) {
      keys[name] = join(conf, `client_${name}`);
      keygen(['-q', '-t', 'ed25519', '-N', '', '-C', `client ${name}`, '-f', keys[name]!]);
      keygen(['-q', '-s', ca, ...args, `${keys[name]}.pub`]);
    }
  });
  afterAll(async () => {
    await sshd?.stop();
    if (conf) spawnSync('rm', ['-rf', conf]);
  });

  /** A pull of `/` with this identity (none: the harness's plain key), and the records it logged. */
  async function pull(identity: string | null, dest: string) {
    const before = readLog(log).length;
    const options = [...sshd.sshOptions];
    if (identity) options[options.indexOf('-i') + 1] = identity;
    mkdirSync(dest);
    const r = await run(RSYNC, ['-a', '-e', [SSH, ...options].join(' '), 'root@127.0.0.1:/', `${dest}/`]);
    return { r, records: readLog(log).slice(before) };
  }

  /** What ssh-keygen -L says of a certificate: the Valid line as ISO times (null for "forever"/no bound). */
  function validity(cert: string): { after: string | null; before: string | null } {
    const valid = /Valid: (.*)/.exec(keygen(['-L', '-f', cert]))![1]!;
    if (valid === 'forever') return { after: null, before: null };
    const m = /^from (\S+) to (\S+)$/.exec(valid)!;
    return { after: `${m[1]}.000Z`, before: `${m[2]}.000Z` };
  }

  it('a certificate: the log has its key ID, serial, principals, CA and validity as ssh-keygen reads them; its own policy decides', async () => {
    const { r, records } = await pull(keys.web!, join(sshd.dir, 'out-web'));
    expect(r.code, `${describeRun(r)}\n${sshd.sshdLog()}`).toBe(0);
    expect(readFileSync(join(sshd.dir, 'out-web', 'web.txt'), 'utf8')).toBe('web\n');
    expect(records.map((x) => x.event)).toEqual(['allow']);
    const [allow] = records;
    const cert = `${keys.web}-cert.pub`;
    const v = validity(cert);
    expect(v.after).toMatch(/^\d{4}-/);
    expect(allow!.cert).toEqual({
      keyId: 'backup@web-1',
      serial: '101',
      principals: ['backup-web'],
      ca: `ssh-ed25519 ${fingerprintOf(`${ca}.pub`)}`,
      validAfter: v.after,
      validBefore: v.before,
      extensions: ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'],
    });
    // key: the certificate's own public key, as ssh-keygen -l and sshd's log name it.
    expect(allow!.key).toBe(`ssh-ed25519 ${fingerprintOf(`${keys.web}.pub`)}`);
    expect(fingerprintOf(cert)).toBe(fingerprintOf(`${keys.web}.pub`));
    expect(sshd.sshdLog()).toContain(`ED25519-CERT ${fingerprintOf(cert)} ID backup@web-1 (serial 101) CA ED25519 ${fingerprintOf(`${ca}.pub`)}`);
    expect(allow!.policy).toMatch(/\/web\.yaml$/);
  });

  it('a second certificate, another principal and policy: the largest serials and "forever" recorded exactly', async () => {
    const { r, records } = await pull(keys.db!, join(sshd.dir, 'out-db'));
    expect(r.code, `${describeRun(r)}\n${sshd.sshdLog()}`).toBe(0);
    expect(readFileSync(join(sshd.dir, 'out-db', 'db.txt'), 'utf8')).toBe('db\n');
    const [allow] = records;
    expect(allow!.policy).toMatch(/\/db\.yaml$/);
    expect(/Serial: (\d+)/.exec(keygen(['-L', '-f', `${keys.db}-cert.pub`]))![1]).toBe('18446744073709551614');
    expect(allow!.cert).toMatchObject({ keyId: 'backup@db-2', serial: '18446744073709551614', principals: ['backup-db', 'unused'], validAfter: null, validBefore: null });
    expect(validity(`${keys.db}-cert.pub`)).toEqual({ after: null, before: null });
  });

  it('a plain key: only its fingerprint, no cert', async () => {
    const { r, records } = await pull(null, join(sshd.dir, 'out-plain'));
    expect(r.code, describeRun(r)).toBe(0);
    const [allow] = records;
    expect(allow!.key).toBe(`ssh-ed25519 ${fingerprintOf(`${sshd.clientKey}.pub`)}`);
    expect(allow).not.toHaveProperty('cert');
  });

  it("critical options are recorded: a certificate's force-command equal to the principal's command, and its source-address", async () => {
    const key = join(conf, 'client_forced');
    keygen(['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    keygen(['-q', '-s', ca, '-I', 'forced@web-1', '-z', '9', '-n', 'backup-web', '-V', '-1h:+1d', '-O', 'clear', '-O', `force-command=${webCommand}`, '-O', 'source-address=127.0.0.1/32', `${key}.pub`]);
    const { r, records } = await pull(key, join(sshd.dir, 'out-forced'));
    expect(r.code, `${describeRun(r)}\n${sshd.sshdLog()}`).toBe(0);
    expect(records[0]!.cert).toEqual({
      keyId: 'forced@web-1',
      serial: '9',
      principals: ['backup-web'],
      ca: `ssh-ed25519 ${fingerprintOf(`${ca}.pub`)}`,
      ...(() => {
        const v = validity(`${key}-cert.pub`);
        return { validAfter: v.after, validBefore: v.before };
      })(),
      criticalOptions: { 'force-command': webCommand, 'source-address': '127.0.0.1/32' },
    });
  });

  it('a certificate past its validity, and one for a principal the file does not list, are refused by sshd: the gate never runs', async () => {
    for (const [name, args] of [
      ['expired', ['-I', 'old@web-1', '-z', '7', '-n', 'backup-web', '-V', '-2d:-1d']],
      ['stranger', ['-I', 'who@nowhere', '-z', '8', '-n', 'not-listed', '-V', '-1h:+1d']],
    ] as const) {
      const key = join(conf, `client_${name}`);
      keygen(['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      keygen(['-q', '-s', ca, ...args, `${key}.pub`]);
      const { r, records } = await pull(key, join(sshd.dir, `out-${name}`));
      expect(r.code, describeRun(r)).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
      expect(records).toEqual([]);
    }
  });

  it('audit --key-id filters by the certificate; --summary groups by it', async () => {
    const audit = (args: string[]) => run(process.execPath, [gatekeeper, 'audit', '--log', log, ...args]);
    const json = async (args: string[]) => {
      const r = await audit([...args, '--json']);
      expect(r.code, describeRun(r)).toBe(0);
      return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { cert?: { keyId: string }; key?: string });
    };
    expect((await json(['--key-id', 'backup@web-*'])).map((x) => x.cert?.keyId)).toEqual(['backup@web-1']);
    expect((await json(['--key-id', 'backup@*'])).map((x) => x.cert?.keyId)).toEqual(['backup@web-1', 'backup@db-2']);
    const plain = await json(['--key-id', '-']);
    expect(plain.map((x) => x.key)).toEqual([`ssh-ed25519 ${fingerprintOf(`${sshd.clientKey}.pub`)}`]);
    const none = await audit(['--key-id', 'BACKUP@*']);
    expect(none.stderr).toContain('no records match');
    const table = await audit(['--key-id', 'backup@db-2']);
    expect(table.stdout).toContain('[cert backup@db-2] pull /');
    const summary = await audit(['--summary', '--json']);
    expect(summary.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { keyId: string | null }).keyId).sort()).toEqual(['backup@db-2', 'backup@web-1', 'forced@web-1', null].sort());
    expect((await json(['--key-id', '*@web-?'])).map((x) => x.cert?.keyId)).toEqual(['backup@web-1', 'forced@web-1']);
  });
});

// grant restore: the restore of a backup, for real. The server's tree is
// backed up, damaged, and restored by a push under the grant (a write-only
// policy confined to the tree, for a key of its own); the server's tree is
// identical again. Then a grant a few seconds long: once it has passed, sshd
// itself refuses the same push.
import { execFileSync } from 'node:child_process';
import { existsSync, lutimesSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restorePolicy } from '../../src/install/grant.js';
import { loadPolicy } from '../../src/policy/load.js';
import { describeRun, GATEKEEPER, makePrivateDir, readLog, startSshd, SYSTEM_NODE, writePolicy, type Sshd } from '../helpers/sshd.js';
import { diffSnapshots, snapshot } from '../helpers/tree.js';
import { waitUntil } from '../helpers/wait.js';
import { cli } from './setup.js';

let sshd: Sshd | undefined;
let dir: string | undefined;
beforeAll(() => {
  if (!existsSync(GATEKEEPER)) throw new Error(`${GATEKEEPER} is missing: run npm run build first`);
});
afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the grant's policy", () => {
  const base = { path: '/srv/data', granted: 1796649330, expires: 1796663730, keepOwners: false, delete: false };
  it('is write-only, confined to the path, strips setuid bits, and names its expiry', async () => {
    const { name, policy, text } = restorePolicy(base);
    expect(name).toBe('restore-20261207131530Z');
    expect(policy).toMatchObject({ access: 'write-only', root: '/srv/data', setuid: 'strip', delete: false, mungeLinks: false });
    expect(text).toContain('2026-12-07T17:15:30Z');
    // What the gate will load: the schema accepts it as written.
    const d = makePrivateDir('gk-grant-policy-');
    try {
      writeFileSync(join(d, `${name}.yaml`), text, { mode: 0o600 });
      const loaded = await loadPolicy(join(d, `${name}.yaml`), { checkTrust: false });
      expect(loaded.policy).toMatchObject({ access: 'write-only', root: '/srv/data', setuid: 'strip' });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('keeps owners and setuid bits only with --keep-owners, allows --delete only with --delete', () => {
    expect(restorePolicy({ ...base, keepOwners: true }).policy.setuid).toBe('keep');
    expect(restorePolicy({ ...base, delete: true }).policy.delete).toBe(true);
    expect(restorePolicy({ ...base, from: ['192.0.2.7'] }).policy.from).toEqual(['192.0.2.7']);
  });
});

describe('grant restore, with a real sshd', () => {
  it('restores a damaged tree to identical, then, once a short grant has passed, sshd refuses the push', async () => {
    sshd = await startSshd({ prefix: 'gk-grant-', logLevel: 'DEBUG' });
    dir = makePrivateDir('gk-grant-data-');
    const data = join(dir, 'srv-data');
    mkdirSync(join(data, 'etc', 'sub'), { recursive: true });
    writeFileSync(join(data, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(data, 'etc', 'sub', 'big file'), 'x'.repeat(50_000));
    symlinkSync('hosts', join(data, 'etc', 'link'));
    const past = new Date('2024-01-02T03:04:05Z');
    lutimesSync(join(data, 'etc', 'link'), past, past);
    for (const p of ['etc/hosts', 'etc/sub/big file', 'etc/sub', 'etc', '.']) utimesSync(join(data, p), past, past);
    const log = join(dir, 'log', 'gatekeeper.log');
    const configDir = join(dir, 'etc-gatekeeper');
    // Every path in the scratch directory, the logrotate rule's too (not the host's /etc/logrotate.d).
    mkdirSync(join(dir, 'logrotate.d'));
    const paths = ['--sshd-config', sshd.config, '--authorized-keys', sshd.authorizedKeys, '--prefix', join(dir, 'prefix'), '--config-dir', configDir];
    const rotate = ['--logrotate-dir', join(dir, 'logrotate.d')];
    // The backup, as the original setup makes it: a pull through a read-only policy.
    const backup = join(dir, 'backup');
    const pullPolicy = writePolicy(join(dir, 'policy-src'), 'nightly', { root: data, log, access: 'read-only' });
    const inst = cli(['install', '--policy', pullPolicy, '--key', `${sshd.clientKey}.pub`, ...paths, ...rotate, '--node', SYSTEM_NODE, '--no-reload']);
    expect(inst.status, inst.stderr).toBe(0);
    const backupRun = await sshd.rsync(['-a', '--numeric-ids', `root@127.0.0.1:${data}/`, `${backup}/`]);
    expect(backupRun.code, `${describeRun(backupRun)}\n${sshd.sshdLog()}`).toBe(0);
    expect(diffSnapshots(snapshot(data), snapshot(backup))).toEqual([]);
    // The restore key is a key of its own: the backup key's line goes first (here the same key stands in for it).
    expect(cli(['uninstall', '--key', `${sshd.clientKey}.pub`, ...paths, '--no-reload']).status).toBe(0);

    // The damage: a file changed, one gone, one that was never there.
    writeFileSync(join(data, 'etc', 'hosts'), 'garbage\n');
    unlinkSync(join(data, 'etc', 'sub', 'big file'));
    writeFileSync(join(data, 'etc', 'stray'), 'stray\n');
    expect(diffSnapshots(snapshot(backup), snapshot(data))).not.toEqual([]);

    const grant = (period: string) => {
      const r = cli(['grant', 'restore', '--key', `${sshd!.clientKey}.pub`, '--for', period, '--path', data, '--delete', '--log', log, ...paths, ...rotate, '--node', SYSTEM_NODE, '--no-reload', '--host', '127.0.0.1']);
      expect(r.status, r.stderr).toBe(0);
      return r;
    };
    const push = () => sshd!.rsync(['-a', '--delete', '--numeric-ids', `${backup}/`, 'root@127.0.0.1:/']);

    grant('1h');
    const line = readFileSync(sshd.authorizedKeys, 'utf8');
    expect(line).toMatch(/command="[^"]* gate --policy restore-\d{14}Z[^"]*",expiry-time="\d{14}Z" ssh-ed25519 /);
    // A second grant for the same key is refused: its expiry would end the other line too.
    const again = cli(['grant', 'restore', '--key', `${sshd.clientKey}.pub`, '--for', '1h', '--path', data, '--log', log, ...paths, ...rotate, '--node', SYSTEM_NODE, '--no-reload']);
    expect(again.status).toBe(64);
    expect(again.stderr).toContain('a key of its own');
    expect(readFileSync(sshd.authorizedKeys, 'utf8')).toBe(line);

    const r = await push();
    expect(r.code, `${describeRun(r)}\n${sshd.sshdLog()}`).toBe(0);
    expect(diffSnapshots(snapshot(backup), snapshot(data))).toEqual([]);
    // Write-only: the same key cannot read the tree back.
    const pull = await sshd.rsync(['-a', 'root@127.0.0.1:/', `${join(dir, 'readback')}/`]);
    expect(pull.code).not.toBe(0);
    const records = readLog(log);
    expect(records.filter((x) => x.event === 'allow').length).toBeGreaterThan(0);
    expect(records.some((x) => x.event === 'deny')).toBe(true);
    // The grant event, in the same log, names what was granted; the sessions under it carry its policy.
    const grants = records.filter((x) => x.event === 'grant');
    expect(grants).toHaveLength(1);
    const fp = execFileSync('/usr/bin/ssh-keygen', ['-l', '-f', `${sshd.clientKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
    expect(grants[0]).toMatchObject({ key: `ssh-ed25519 ${fp}`, user: 'root', grant: { kind: 'restore', path: data, from: null, keepOwners: false, delete: true } });
    const granted = grants[0]!.policy as string;
    expect(granted).toMatch(/^restore-\d{14}Z$/);
    const g = grants[0]!.grant as { expires: string; granted: string };
    expect(Date.parse(g.expires) - Date.parse(g.granted)).toBe(3600_000);
    const under = records.filter((x) => x.policy === granted && x.event !== 'grant');
    expect(under.filter((x) => x.event === 'allow').length).toBe(1);
    expect(under.filter((x) => x.event === 'deny').length).toBe(1);
    // audit shows the grant, and under it the push and the refused read-back.
    const table = cli(['audit', '--log', log, '--policy', granted]);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`restore-\\S+ +- +grant +push into ${data.replace(/[/.]/g, '\\$&')}`));
    const sum = cli(['audit', '--log', log, '--summary']);
    expect(sum.status, sum.stderr).toBe(0);
    expect(sum.stdout).toContain(`GRANTS\n`);
    expect(sum.stdout).toMatch(new RegExp(`${granted} ssh-ed25519 ${fp.replace(/[+/]/g, '\\$&')}: push into \\S+ with --delete, until `));
    expect(sum.stdout).toContain('  sessions: 1 allowed, 1 refused');
    const sumJson = cli(['audit', '--log', log, '--summary', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(sumJson.filter((x) => x.type === 'grant')).toMatchObject([{ policy: granted, path: data, sessions: { allowed: 1, refused: 1 } }]);

    // A grant a few seconds long, for the same key once the first is taken out.
    const u = cli(['uninstall', '--key', `${sshd.clientKey}.pub`, ...paths, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    grant('2s');
    writeFileSync(join(data, 'etc', 'hosts'), 'damaged again\n');
    await waitUntil(async () => (await sshd!.ssh(['true'])).stderr.includes('Permission denied'), () => null, 250);
    expect(sshd.sshdLog()).toMatch(/entry expired at/);
    const late = await push();
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain('Permission denied');
    expect(readFileSync(join(data, 'etc', 'hosts'), 'utf8')).toBe('damaged again\n');

    const clean = cli(['uninstall', '--expired', ...paths, '--no-reload']);
    expect(clean.status, clean.stderr).toBe(0);
    expect(readFileSync(sshd.authorizedKeys, 'utf8')).toBe('');
  }, 240_000);
});

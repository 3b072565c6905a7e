// install --json / uninstall --json / keys --json: the machine-readable
// account configuration management takes `changed` from. Run through the
// CLI against a scratch "server" (every path overridden), judged by what is
// on disk afterwards.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChangeReport } from '../../src/install/report.js';
import type { InstalledKey } from '../../src/install/keys-list.js';
import { KEYS, cli, installArgs, makeServer, scratchServers, tree } from './setup.js';

const { HOSTKEY, servers } = scratchServers('gk-hostkey-');

const ED = join(KEYS, 'id_ed25519.pub');
const RSA = join(KEYS, 'id_rsa.pub');
const EXISTING = 'command="/usr/bin/uptime",no-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCaS monitoring\n';

/** stdout must be exactly one JSON object and a newline: nothing else may share it. */
function report(stdout: string): ChangeReport {
  expect(stdout.endsWith('}\n')).toBe(true);
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(stdout) as ChangeReport;
}
const action = (r: ChangeReport, path: string) => r.files.find((f) => f.path === path)?.action;
const changedPaths = (r: ChangeReport) => r.files.filter((f) => f.action !== 'unchanged').map((f) => `${f.action} ${f.path}`).sort();

describe('install --json', () => {
  it('dry run, run, second run: what would change, what changed, then nothing', () => {
    const s = makeServer('no-include', HOSTKEY, { authorizedKeys: EXISTING });
    servers.push(s);
    const launcher = join(s.prefix, 'bin', 'gatekeeper');
    const before = tree(s.base);

    const d = cli(installArgs(s, ED, ['--dry-run', '--json']));
    expect(d.status, d.stderr).toBe(0);
    const dry = report(d.stdout);
    expect(tree(s.base)).toEqual(before);
    expect(d.stderr).toContain('--dry-run: nothing was changed');
    expect(d.stderr).toContain('Client side:');
    expect(dry).toMatchObject({ version: 1, command: 'install', dryRun: true, changed: true, reload: { needed: true, done: 'skipped' } });
    expect(action(dry, launcher)).toBe('created');
    expect(action(dry, s.authorizedKeys)).toBe('updated');
    expect(action(dry, s.sshdConfig)).toBe('updated');
    expect(action(dry, join(s.prefix, 'lib', 'gatekeeper', 'gate.cjs'))).toBe('created');
    expect(dry.files.filter((f) => f.type === 'directory').map((f) => f.path)).toEqual(expect.arrayContaining([s.configDir, join(s.configDir, 'policies')]));
    expect(dry.keys).toEqual([{ fingerprint: expect.stringMatching(/^SHA256:/), policy: 'backup', action: 'added' }]);

    const r = cli(installArgs(s, ED, ['--json']));
    expect(r.status, r.stderr).toBe(0);
    const first = report(r.stdout);
    expect(r.stderr).toContain('forced command:');
    expect(first).toMatchObject({ dryRun: false, changed: true, reload: { needed: true, done: 'skipped' } });
    // The run did what the dry run said it would.
    expect(changedPaths(first)).toEqual(changedPaths(dry));
    expect(readFileSync(s.authorizedKeys, 'utf8')).toContain(`command="${launcher} gate --policy backup`);

    const installed = tree(s.base);
    const a = cli(installArgs(s, ED, ['--json']));
    expect(a.status, a.stderr).toBe(0);
    const again = report(a.stdout);
    expect(tree(s.base)).toEqual(installed);
    expect(again).toMatchObject({ changed: false, reload: { needed: false, done: null }, keys: [{ action: 'unchanged' }] });
    expect(changedPaths(again)).toEqual([]);
    expect(again.files.map((f) => f.path)).toEqual(expect.arrayContaining([launcher, s.authorizedKeys]));
    // A dry run now says the same.
    const d2 = cli(installArgs(s, ED, ['--dry-run', '--json']));
    expect(report(d2.stdout).changed).toBe(false);
  }, 300_000);

  it('a new from= rewrites the key line: only authorized_keys is updated', () => {
    const s = makeServer('debian', HOSTKEY, { authorizedKeys: EXISTING, policy: { root: '/srv' } });
    servers.push(s);
    expect(cli(installArgs(s, ED)).status).toBe(0);
    // A different from= rewrites the key's line, nothing else.
    const r = cli(installArgs(s, ED, ['--json', '--from', '192.0.2.7']));
    expect(r.status, r.stderr).toBe(0);
    const rep = report(r.stdout);
    expect(changedPaths(rep)).toEqual([`updated ${s.authorizedKeys}`]);
    expect(rep.keys[0]?.action).toBe('replaced');
  }, 300_000);

  // `changed` must count creations and removals, not only updates: runs whose only change is one of them.
  it('creation only: a removed logrotate rule is created again, nothing else; changed is true', () => {
    const s = makeServer('debian', HOSTKEY, { authorizedKeys: EXISTING });
    servers.push(s);
    expect(cli(installArgs(s, ED)).status).toBe(0);
    const rule = join(s.logrotateDir, 'gatekeeper');
    rmSync(rule);
    const d = report(cli(installArgs(s, ED, ['--json', '--dry-run'])).stdout);
    expect(changedPaths(d)).toEqual([`created ${rule}`]);
    expect(d.changed).toBe(true);
    const r = cli(installArgs(s, ED, ['--json']));
    expect(r.status, r.stderr).toBe(0);
    const rep = report(r.stdout);
    expect(changedPaths(rep)).toEqual([`created ${rule}`]);
    expect(rep.changed).toBe(true);
    expect(existsSync(rule)).toBe(true);
  }, 300_000);

  it('removal only: uninstall --key of the only key takes out the authorized_keys install created; changed is true', () => {
    const s = makeServer('debian', HOSTKEY, { authorizedKeys: null });
    servers.push(s);
    expect(cli(installArgs(s, ED)).status).toBe(0);
    expect(existsSync(s.authorizedKeys)).toBe(true);
    const d = report(cli(['uninstall', '--key', ED, '--json', '--dry-run', ...s.args]).stdout);
    expect(changedPaths(d)).toEqual([`removed ${s.authorizedKeys}`]);
    expect(d.changed).toBe(true);
    const u = cli(['uninstall', '--key', ED, '--json', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    const rep = report(u.stdout);
    expect(changedPaths(rep)).toEqual([`removed ${s.authorizedKeys}`]);
    expect(rep.changed).toBe(true);
    expect(existsSync(s.authorizedKeys)).toBe(false);
  }, 300_000);

  it('a refusal prints no JSON: the reason on stderr, exit 77', () => {
    const s = makeServer('debian', HOSTKEY, { authorizedKeys: readFileSync(RSA, 'utf8') });
    servers.push(s);
    const r = cli(installArgs(s, ED, ['--json']));
    expect(r.status).toBe(77);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--yes');
  }, 300_000);
});

describe('keys --json and uninstall --json', () => {
  it('lists the installed keys, removes one, then has nothing left to remove', () => {
    const s = makeServer('debian', HOSTKEY, { authorizedKeys: EXISTING });
    servers.push(s);
    const empty = cli(['keys', '--json', '--config-dir', s.configDir]);
    expect(empty.status, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual({ version: 1, keys: [], principals: [], cas: [], revokedKeys: null });

    expect(cli(installArgs(s, ED)).status).toBe(0);
    expect(cli(installArgs(s, RSA, ['--from', '192.0.2.1,198.51.100.0/24'])).status).toBe(0);
    const k = cli(['keys', '--json', '--config-dir', s.configDir, '--authorized-keys', s.authorizedKeys]);
    expect(k.status, k.stderr).toBe(0);
    const keys = (JSON.parse(k.stdout) as { keys: InstalledKey[] }).keys;
    const [edType, edBlob, edComment] = readFileSync(ED, 'utf8').trim().split(' ');
    expect(keys).toEqual([
      { user: 'root', file: s.authorizedKeys, policy: 'backup', fingerprint: expect.stringMatching(/^SHA256:/), key: `${edType} ${edBlob}`, comment: edComment, from: null, present: true, expires: null, expired: false, revoked: null },
      expect.objectContaining({ key: expect.stringMatching(/^ssh-rsa /), from: ['192.0.2.1', '198.51.100.0/24'], present: true }),
    ]);
    expect(JSON.parse(cli(['keys', '--json', '--config-dir', s.configDir, '--authorized-keys', '/nowhere']).stdout)).toEqual({ version: 1, keys: [], principals: [], cas: [], revokedKeys: null });

    const akBefore = readFileSync(s.authorizedKeys, 'utf8');
    const d = cli(['uninstall', '--key', RSA, '--json', '--dry-run', ...s.args]);
    expect(d.status, d.stderr).toBe(0);
    expect(report(d.stdout)).toMatchObject({ command: 'uninstall', dryRun: true, changed: true });
    expect(readFileSync(s.authorizedKeys, 'utf8')).toBe(akBefore);

    // The key given on stdin, as the role does it.
    const u = cli(['uninstall', '--key', '-', '--json', ...s.args, '--no-reload'], keys[1]!.key);
    expect(u.status, u.stderr).toBe(0);
    const rep = report(u.stdout);
    expect(rep).toMatchObject({ command: 'uninstall', dryRun: false, changed: true, keys: [{ fingerprint: keys[1]!.fingerprint, policy: 'backup', action: 'removed' }], reload: { needed: false } });
    expect(changedPaths(rep)).toEqual([`updated ${s.authorizedKeys}`]);
    expect(readFileSync(s.authorizedKeys, 'utf8')).toBe(akBefore.split('\n').filter((l) => !l.startsWith('restrict,command=') || !l.includes('ssh-rsa')).join('\n'));
    expect((JSON.parse(cli(['keys', '--json', '--config-dir', s.configDir]).stdout) as { keys: InstalledKey[] }).keys.map((x) => x.key)).toEqual([`${edType} ${edBlob}`]);

    const again = cli(['uninstall', '--key', RSA, '--json', ...s.args, '--no-reload']);
    expect(again.status, again.stderr).toBe(0);
    expect(report(again.stdout)).toMatchObject({ changed: false, files: [], keys: [] });
    expect(again.stderr).toContain('nothing to uninstall');

    const all = cli(['uninstall', '--all', '--json', ...s.args, '--no-reload']);
    expect(all.status, all.stderr).toBe(0);
    const gone = report(all.stdout);
    expect(gone).toMatchObject({ changed: true, reload: { needed: true, done: 'skipped' } });
    expect(action(gone, join(s.prefix, 'bin', 'gatekeeper'))).toBe('removed');
    expect(action(gone, join(s.prefix, 'lib', 'gatekeeper', 'gate.cjs'))).toBe('removed');
  }, 300_000);
});

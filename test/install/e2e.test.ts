// The original setup, end to end, through exactly what install writes: a
// private sshd configured like the original server (PermitRootLogin no),
// `gatekeeper install` (which edits that sshd_config, SIGHUPs the sshd via its
// PidFile, writes the launcher and the gate line), then a real rsync pull of a
// temp tree through ssh; then uninstall, after which the same pull is refused.
import { lutimesSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { describeRun, GATEKEEPER, makePrivateDir, readLog, startSshd, SYSTEM_NODE, writePolicy, type Sshd } from '../helpers/sshd.js';
import { diffSnapshots, snapshot } from '../helpers/tree.js';
import { cli } from './setup.js';
import { waitUntil } from '../helpers/wait.js';

let sshd: Sshd;
let dir: string;

/** sshd re-executes itself on SIGHUP; wait until it has logged one more "Server listening" than before. */
async function restarted(s: Sshd, before: number): Promise<void> {
  // No deadline: a slow re-exec is no failure (the test's timeout bounds it); an sshd that died is.
  await waitUntil(() => listening(s) > before, () => (/fatal|terminating/i.test(s.sshdLog()) ? `sshd did not restart after SIGHUP:\n${s.sshdLog()}` : null));
}
const listening = (s: Sshd) => s.sshdLog().split('Server listening on').length - 1;

beforeAll(async () => {
  if (!existsSync(GATEKEEPER)) throw new Error(`${GATEKEEPER} is missing: run npm run build first`);
  sshd = await startSshd({ prefix: 'gk-install-e2e-' });
  dir = makePrivateDir('gk-install-e2e-data-');
  // Make it the original setup's server: root may not log in at all.
  const config = readFileSync(sshd.config, 'utf8');
  expect(config).toContain('\nPermitRootLogin forced-commands-only\n');
  writeFileSync(sshd.config, config.replace('\nPermitRootLogin forced-commands-only\n', '\nPermitRootLogin no\n'));
  const n = listening(sshd);
  process.kill(sshd.pid, 'SIGHUP');
  await restarted(sshd, n);
});
afterAll(async () => {
  await sshd?.stop();
  if (dir) (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
});

describe('install into a running sshd, then a real backup', () => {
  it('pulls a tree through the installed gate, and uninstall takes it all back', async () => {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'etc', 'sub'), { recursive: true });
    writeFileSync(join(src, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(src, 'etc', 'sub', 'with space.txt'), 'x'.repeat(10_000));
    symlinkSync('hosts', join(src, 'etc', 'link'));
    // Times in the past: rsync 3.5 judges a directory's mtime to the whole
    // second, so a tree made in the same second as the pull may keep the
    // copy's creation time (a flake under load, not a gate matter).
    const past = new Date('2024-01-02T03:04:05Z');
    for (const p of ['etc/link']) lutimesSync(join(src, p), past, past);
    for (const p of ['etc/hosts', 'etc/sub/with space.txt', 'etc/sub', 'etc', '.']) utimesSync(join(src, p), past, past);
    const log = join(dir, 'log', 'gatekeeper.log');
    const policy = writePolicy(join(dir, 'policy-src'), 'e2e', { root: src, log, access: 'read-only' });
    const configBefore = readFileSync(sshd.config, 'utf8');

    const prefix = join(dir, 'prefix');
    const configDir = join(dir, 'etc-gatekeeper');
    const paths = ['--sshd-config', sshd.config, '--authorized-keys', sshd.authorizedKeys, '--prefix', prefix, '--config-dir', configDir];
    mkdirSync(join(dir, 'logrotate'));
    const n = listening(sshd);
    const r = cli(['install', '--policy', policy, '--key', `${sshd.clientKey}.pub`, ...paths, '--node', SYSTEM_NODE, '--logrotate-dir', join(dir, 'logrotate'), '--host', '127.0.0.1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/reloaded sshd \(SIGHUP to pid \d+\)/);
    expect(r.stdout).toContain(`root@127.0.0.1:${src}/`);
    expect(readFileSync(sshd.config, 'utf8')).toBe(configBefore.replace('\nPermitRootLogin no\n', '\nPermitRootLogin forced-commands-only\n'));
    await restarted(sshd, n);

    // The pull, through exactly what install wrote (launcher → bundle → gate → rsync).
    const dst = join(dir, 'dst');
    const pull = await sshd.rsync(['-av', '--numeric-ids', `root@127.0.0.1:${src}/`, `${dst}/`]);
    expect(pull.code, `${describeRun(pull)}\n${sshd.sshdLog()}`).toBe(0);
    expect(diffSnapshots(snapshot(src), snapshot(dst))).toEqual([]);
    const records = readLog(log);
    expect(records.map((x) => x.event)).toContain('allow');
    // Anything but an rsync server call is refused by the gate.
    const shell = await sshd.ssh(['id']);
    expect(shell.code).not.toBe(0);
    expect(shell.stdout).toBe('');
    expect(shell.stderr).toContain('gatekeeper:');

    const m = listening(sshd);
    const u = cli(['uninstall', '--all', ...paths]);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(sshd.config, 'utf8')).toBe(configBefore);
    expect(readFileSync(sshd.authorizedKeys, 'utf8')).toBe('');
    await restarted(sshd, m);
    const again = await sshd.rsync(['-av', `root@127.0.0.1:${src}/`, `${join(dir, 'dst2')}/`]);
    expect(again.code).not.toBe(0);
  }, 90_000);
});

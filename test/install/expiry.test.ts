// install --expires: the expiry-time="…" install writes is what `keys`
// reports and what a real sshd enforces — a key works, then sshd itself
// refuses it once the time has passed; doctor reports it and
// `uninstall --expired` takes the line out.
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstalledKey } from '../../src/install/keys-list.js';
import { describeRun, GATEKEEPER, makePrivateDir, startSshd, SYSTEM_NODE, writePolicy, type Sshd } from '../helpers/sshd.js';
import { diffSnapshots, snapshot } from '../helpers/tree.js';
import { waitUntil } from '../helpers/wait.js';
import { hostKey } from '../sshd/shapes.js';
import { cli, installArgs, KEYS, makeServer, type Server } from './setup.js';

const ED = join(KEYS, 'id_ed25519.pub');
const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const HOSTKEY = hostKey(keyDir);
const servers: Server[] = [];
let sshd: Sshd | undefined;
let dir: string | undefined;

beforeAll(() => {
  if (!existsSync(GATEKEEPER)) throw new Error(`${GATEKEEPER} is missing: run npm run build first`);
});
afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const s of servers) rmSync(s.base, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

const keysJson = (configDir: string): InstalledKey[] => {
  const r = cli(['keys', '--json', '--config-dir', configDir]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { keys: InstalledKey[] }).keys;
};

describe('install --expires round-trips through keys', () => {
  it('writes expiry-time in UTC with Z, and keys lists it (text and --json)', () => {
    const s = makeServer('debian', HOSTKEY);
    servers.push(s);
    const r = cli(installArgs(s, ED, ['--expires', '2099-01-31T18:00:00+02:00']));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(s.authorizedKeys, 'utf8')).toMatch(/^restrict,command="[^"]+",expiry-time="20990131160000Z" ssh-ed25519 /);
    expect(keysJson(s.configDir)).toEqual([expect.objectContaining({ expires: '2099-01-31T16:00:00Z', expired: false, present: true })]);
    expect(cli(['keys', '--config-dir', s.configDir]).stdout).toContain(' (expires 2099-01-31T16:00:00Z)');

    // A relative time counts from when install ran.
    const before = Math.floor(Date.now() / 1000);
    expect(cli(installArgs(s, ED, ['--expires', '+7d'])).status).toBe(0);
    const after = Math.floor(Date.now() / 1000);
    const [k] = keysJson(s.configDir);
    const epoch = Date.parse(k!.expires!) / 1000;
    expect(epoch).toBeGreaterThanOrEqual(before + 7 * 86400);
    expect(epoch).toBeLessThanOrEqual(after + 7 * 86400);
    expect(readFileSync(s.authorizedKeys, 'utf8').match(/expiry-time=/g)).toHaveLength(1);

    // Installing again without --expires: the key no longer expires.
    expect(cli(installArgs(s, ED)).status).toBe(0);
    expect(keysJson(s.configDir)).toEqual([expect.objectContaining({ expires: null, expired: false })]);
    expect(readFileSync(s.authorizedKeys, 'utf8')).not.toContain('expiry-time');
  }, 120_000);

  it('refuses a time it cannot read, or one in the past, before touching anything (64)', () => {
    const s = makeServer('debian', HOSTKEY, { authorizedKeys: '' });
    servers.push(s);
    for (const when of ['tomorrow', '2020-01-01T00:00Z', '+4y', '2027-02-30']) {
      const r = cli(installArgs(s, ED, ['--expires', when]));
      expect(r.status, `${when}: ${r.stderr}`).toBe(64);
      expect(r.stderr).toContain('--expires');
    }
    expect(readFileSync(s.authorizedKeys, 'utf8')).toBe('');
    expect(existsSync(s.configDir)).toBe(false);
  }, 120_000);
});

describe('a key with expiry-time, in a real sshd', () => {
  it('pulls while it is valid; once it has passed sshd refuses it, doctor reports it and uninstall --expired removes it', async () => {
    sshd = await startSshd({ prefix: 'gk-expiry-', logLevel: 'DEBUG' });
    dir = makePrivateDir('gk-expiry-data-');
    const src = join(dir, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'hosts'), '127.0.0.1 localhost\n');
    const past = new Date('2024-01-02T03:04:05Z');
    for (const p of ['etc/hosts', 'etc', '.']) utimesSync(join(src, p), past, past);
    const policy = writePolicy(join(dir, 'policy-src'), 'expiry', { root: src, log: join(dir, 'log', 'gatekeeper.log'), access: 'read-only' });
    const configDir = join(dir, 'etc-gatekeeper');
    // Every path in the scratch directory: no --logrotate-dir would write the host's /etc/logrotate.d.
    mkdirSync(join(dir, 'logrotate.d'));
    const paths = ['--sshd-config', sshd.config, '--authorized-keys', sshd.authorizedKeys, '--prefix', join(dir, 'prefix'), '--config-dir', configDir];
    const install = (when: string) => {
      const r = cli(['install', '--policy', policy, '--key', `${sshd!.clientKey}.pub`, ...paths, '--logrotate-dir', join(dir!, 'logrotate.d'), '--node', SYSTEM_NODE, '--no-reload', '--host', '127.0.0.1', '--expires', when]);
      expect(r.status, r.stderr).toBe(0);
    };
    const pull = (to: string) => sshd!.rsync(['-a', `root@127.0.0.1:${src}/`, `${join(dir!, to)}/`]);

    // An hour ahead: sshd reads the time we wrote and lets the key in.
    install('+1h');
    const ok = await pull('dst');
    expect(ok.code, `${describeRun(ok)}\n${sshd.sshdLog()}`).toBe(0);
    expect(diffSnapshots(snapshot(src), snapshot(join(dir, 'dst')))).toEqual([]);

    // A few seconds ahead: the same key, its line replaced in place.
    install('+2s');
    const line = readFileSync(sshd.authorizedKeys, 'utf8');
    expect(line.match(/expiry-time="(\d{14}Z)"/g)).toHaveLength(1);
    // Wait on the fact, not the clock: sshd refusing the key is what we wait for (the test's timeout bounds it).
    await waitUntil(async () => (await sshd!.ssh(['true'])).stderr.includes('Permission denied'), () => null, 250);
    expect(sshd.sshdLog()).toMatch(/entry expired at/);
    const refused = await pull('dst2');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Permission denied');
    expect(existsSync(join(dir, 'dst2'))).toBe(false);

    expect(keysJson(configDir)).toEqual([expect.objectContaining({ expired: true, present: true })]);
    const doc = cli(['doctor', '--user', 'root', '--sshd-config', sshd.config, '--authorized-keys', sshd.authorizedKeys, '--json']);
    const checks = JSON.parse(doc.stdout) as { status: string; check: string; detail: string; fix?: string }[];
    expect(checks.filter((c) => c.check === 'key expiry')).toEqual([expect.objectContaining({ status: 'warn', detail: expect.stringMatching(/expired .*sshd refuses it/), fix: expect.stringContaining('uninstall --expired') })]);

    const u = cli(['uninstall', '--expired', ...paths, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(sshd.authorizedKeys, 'utf8')).toBe('');
    expect(keysJson(configDir)).toEqual([]);
    const again = cli(['uninstall', '--expired', ...paths, '--no-reload']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to uninstall');
  }, 180_000);
});

// install/uninstall through the CLI, against copies of real sshd_config
// shapes, judged by the real sshd (-t, -T). Every path is a temp path.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectivePermitRootLogin, sshdEffective, sshdTest } from '../../src/sshd/run.js';
import { SHAPES, hostKey, type Shape } from '../sshd/shapes.js';
import { GATEKEEPER, KEYS, cli, installArgs, makeServer, tree, type Server } from './setup.js';

const SSHD = '/usr/sbin/sshd';
const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const HOSTKEY = hostKey(keyDir);
const servers: Server[] = [];
const server = (shape: Shape, opts?: Parameters<typeof makeServer>[2]) => {
  const s = makeServer(shape, HOSTKEY, opts);
  servers.push(s);
  return s;
};
afterAll(() => {
  for (const s of [...servers]) rmSync(s.base, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});
beforeAll(() => {
  if (!existsSync(GATEKEEPER)) throw new Error('run npm run build first');
});

const ED = join(KEYS, 'id_ed25519.pub');
const edLine = readFileSync(ED, 'utf8').trim();
const rootAt = { user: 'root', host: 'localhost', addr: '127.0.0.1' };
async function rootPrl(s: Server): Promise<string | undefined> {
  const eff = await sshdEffective(SSHD, s.sshdConfig, rootAt);
  if ('error' in eff) throw new Error(eff.error);
  return effectivePermitRootLogin(eff);
}

// A key with a forced command: nobody is locked out in these shapes.
const EXISTING = 'command="/usr/bin/uptime",no-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCaS monitoring\n# keep me\n';

describe.each(SHAPES.filter((s) => s !== 'match-root'))('install → uninstall on the %s shape', (shape) => {
  it('makes root forced-commands-only, writes the gate line, is idempotent, and uninstall restores every byte', async () => {
    const s = server(shape, { authorizedKeys: EXISTING });
    const before = tree(s.base);
    const r = cli(installArgs(s, ED));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Client side:');
    expect(r.stdout).toContain('rsync -e "ssh -i');

    expect((await sshdTest(SSHD, s.sshdConfig)).ok).toBe(true);
    expect(await rootPrl(s)).toBe('forced-commands-only');
    const ak = readFileSync(s.authorizedKeys, 'utf8');
    const launcher = join(s.prefix, 'bin', 'gatekeeper');
    expect(ak).toBe(`${EXISTING}restrict,command="${launcher} gate --policy backup --policy-dir ${s.configDir}/policies" ${edLine}\n`);
    expect(statSync(s.authorizedKeys).mode & 0o777).toBe(0o600);
    const st = statSync(launcher);
    expect([st.mode & 0o777, st.uid]).toEqual([0o755, 0]);
    expect(readFileSync(launcher, 'utf8').split('\n')[0]).toBe('#!/usr/bin/node');
    // The launcher runs the deployed bundle (with Node 20 from the distribution) and prints only what was asked.
    expect(execFileSync(launcher, ['--version'], { encoding: 'utf8' })).toBe('0.1.0\n');
    expect(readFileSync(join(s.configDir, 'policies', 'backup.yaml'), 'utf8')).toBe(readFileSync(s.policy, 'utf8'));
    expect(statSync(join(s.base, 'log', 'gatekeeper')).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(s.logrotateDir, 'gatekeeper'), 'utf8')).toContain(`${s.log} {`);
    expect(readFileSync(join(s.logrotateDir, 'gatekeeper'), 'utf8')).not.toMatch(/^\s*copytruncate/m);

    const installed = tree(s.base);
    const again = cli(installArgs(s, ED));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to change');
    expect(tree(s.base)).toEqual(installed);

    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(tree(s.base)).toEqual(before);
    expect(await rootPrl(s)).not.toBe('forced-commands-only');
  });
});

describe('upgrading the deployed bundle', () => {
  it('removes what an older build deployed and the new one does not name: its chunks and its old entries', () => {
    const s = server('debian');
    const lib = join(s.prefix, 'lib', 'gatekeeper');
    expect(cli(installArgs(s, ED)).status).toBe(0);
    // What the previous release left: an ES module gate entry and its chunk.
    writeFileSync(join(lib, 'gate.mjs'), 'import "./chunks/gate-main-OLD.mjs";\n');
    writeFileSync(join(lib, 'chunks', 'gate-main-OLD.mjs'), 'export {};\n');
    const r = cli(installArgs(s, ED));
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(lib, 'gate.mjs'))).toBe(false);
    expect(existsSync(join(lib, 'chunks', 'gate-main-OLD.mjs'))).toBe(false);
    expect(existsSync(join(lib, 'gate.cjs'))).toBe(true);
    expect(execFileSync(join(s.prefix, 'bin', 'gatekeeper'), ['--version'], { encoding: 'utf8' })).toBe('0.1.0\n');
    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(existsSync(lib)).toBe(false);
  });
});

describe('where the change goes', () => {
  it('RHEL: 00-gatekeeper.conf sorts before 01-permitrootlogin.conf (PermitRootLogin yes)', async () => {
    const s = server('rhel', { authorizedKeys: '' });
    expect(await rootPrl(s)).toBe('yes');
    const r = cli(installArgs(s, ED));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(s.base, 'etc-ssh', 'sshd_config.d', '00-gatekeeper.conf'), 'utf8')).toMatch(/^PermitRootLogin forced-commands-only$/m);
    expect(readFileSync(join(s.base, 'etc-ssh', 'sshd_config.d', '01-permitrootlogin.conf'), 'utf8')).toContain('PermitRootLogin yes');
    expect(await rootPrl(s)).toBe('forced-commands-only');
  });

  it("the original setup's server: `PermitRootLogin no` becomes forced-commands-only in place, one line", () => {
    const s = server('no-include');
    const original = readFileSync(s.sshdConfig, 'utf8');
    expect(cli(installArgs(s, ED)).status).toBe(0);
    expect(readFileSync(s.sshdConfig, 'utf8')).toBe(original.replace('\nPermitRootLogin no\n', '\nPermitRootLogin forced-commands-only\n'));
    // The original's backup is in the config directory's root-owned backups/, not next to the file.
    const state = JSON.parse(readFileSync(join(s.configDir, 'install-state.json'), 'utf8')) as { files: Record<string, { backup?: string }> };
    const backup = state.files[s.sshdConfig]?.backup ?? '';
    expect(backup.startsWith(join(s.configDir, 'backups') + '/')).toBe(true);
    expect(readFileSync(backup, 'utf8')).toBe(original);
    expect(existsSync(`${s.sshdConfig}.gatekeeper-bak`)).toBe(false);
  });

  it('a Match User root override: refused with a clear message, nothing changed', () => {
    const s = server('match-root');
    const before = tree(s.base);
    const r = cli(installArgs(s, ED));
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/Match block overrides PermitRootLogin for root .*sshd_config:8/);
    expect(r.stderr).toContain('Nothing was changed');
    expect(tree(s.base)).toEqual(before);
  });
});

describe('safety', () => {
  it('never locks the admin out: keys without command= block the change unless --yes', async () => {
    const admin = readFileSync(join(KEYS, 'id_rsa.pub'), 'utf8');
    const s = server('debian', { authorizedKeys: admin });
    const before = tree(s.base);
    const r = cli(installArgs(s, ED));
    expect(r.status).toBe(77);
    expect(r.stderr).toContain('rsa@example.net');
    expect(r.stderr).toContain('--yes');
    expect(tree(s.base)).toEqual(before);
    const y = cli(installArgs(s, ED, ['--yes']));
    expect(y.status, y.stderr).toBe(0);
    expect(await rootPrl(s)).toBe('forced-commands-only');
  });

  it("replacing the admin's own unrestricted key is a lock-out too", () => {
    const s = server('no-include', { authorizedKeys: `${edLine}\n` });
    // PermitRootLogin no: root cannot log in today, so nobody is shut out.
    expect(cli(installArgs(s, ED)).status).toBe(0);
    const d = server('debian', { authorizedKeys: `${edLine}\n` });
    const r = cli(installArgs(d, ED));
    expect(r.status).toBe(77);
    expect(r.stderr).toContain('ed25519@example.net');
  });

  it('refuses DSA keys (the original setup generated one) and says to use ed25519', () => {
    const s = server('debian');
    const r = cli(installArgs(s, join(KEYS, 'id_dsa.pub')));
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/ssh-dss.*ed25519/);
    expect(existsSync(join(s.prefix))).toBe(false);
  });

  it('--dry-run prints unified diffs and touches nothing', () => {
    const s = server('no-include', { authorizedKeys: EXISTING });
    const before = tree(s.base);
    const r = cli(installArgs(s, ED, ['--dry-run']));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`--- ${s.sshdConfig}\n+++ ${s.sshdConfig} (new)\n`);
    expect(r.stdout).toContain('-PermitRootLogin no\n+PermitRootLogin forced-commands-only\n');
    expect(r.stdout).toContain(`+restrict,command="${s.prefix}/bin/gatekeeper gate --policy backup`);
    expect(tree(s.base)).toEqual(before);
  });

  it('refuses a second install while one holds the lock', () => {
    const s = server('debian');
    execFileSync('/usr/bin/mkdir', ['-p', s.configDir]);
    writeFileSync(join(s.configDir, '.install.lock'), `${process.pid}\n`);
    const r = cli(installArgs(s, ED));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('another gatekeeper install/uninstall is running');
    expect(readFileSync(s.authorizedKeys, 'utf8')).toBe('');
  });

  it('refuses a node that another user could replace', () => {
    const s = server('debian');
    const dir = mkdtempSync(join(tmpdir(), 'gk-node-'));
    servers.push({ ...s, base: dir });
    execFileSync('/usr/bin/cp', ['/usr/bin/node', join(dir, 'node')]);
    execFileSync('/usr/bin/chmod', ['0777', dir]);
    const r = cli([...installArgs(s, ED), '--node', join(dir, 'node')]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('writable by group or others');
  });
});

describe('uninstall --key', () => {
  it('puts back the line the gate line replaced and keeps the rest', () => {
    const original = `# admin\nno-pty ${edLine}\ncommand="/usr/bin/uptime" ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCaS x\n`;
    const s = server('no-include', { authorizedKeys: original });
    expect(cli(installArgs(s, ED)).status).toBe(0);
    expect(readFileSync(s.authorizedKeys, 'utf8')).not.toContain(`no-pty ${edLine}`);
    // Someone else edits the file afterwards: uninstall only takes out its own line.
    writeFileSync(s.authorizedKeys, `${readFileSync(s.authorizedKeys, 'utf8')}# added later\n`);
    const u = cli(['uninstall', '--key', ED, ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(s.authorizedKeys, 'utf8')).toBe(`${original}# added later\n`);
  });

  it('--from becomes from="…" on the gate line', () => {
    const s = server('no-include');
    expect(cli(installArgs(s, ED, ['--from', '192.0.2.10,198.51.100.0/24'])).status).toBe(0);
    expect(readFileSync(s.authorizedKeys, 'utf8')).toContain('/policies",from="192.0.2.10,198.51.100.0/24" ssh-ed25519');
  });
});

describe('a daemon policy', () => {
  it('gets the sample rsyncd.conf when it has none, and uninstall --all removes it again', () => {
    const confDir = mkdtempSync(join(tmpdir(), 'gk-rsyncd-'));
    const conf = join(confDir, 'rsyncd.conf');
    const s = server(SHAPES[0]!, { authorizedKeys: EXISTING, policy: { daemon: { config: conf } } });
    const before = tree(s.base);
    const r = cli(installArgs(s, ED));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('::MODULE/');
    expect(readFileSync(conf, 'utf8')).toMatch(/^\[system\]$/m);
    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(existsSync(conf)).toBe(false);
    expect(tree(s.base)).toEqual(before);
    rmSync(confDir, { recursive: true });
  });
});

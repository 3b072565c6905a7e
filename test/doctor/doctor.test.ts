import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  authorizedKeysChecks,
  cacheCheck,
  logDirCheck,
  modeChecks,
  nodeCheck,
  parseGateCommand,
  parseRsyncVersion,
  policyChecks,
  shellCheck,
  sshdChecks,
  type Check,
} from '../../src/doctor/checks.js';
import { sshdEffective } from '../../src/sshd/run.js';
import { hostKey, instantiate } from '../sshd/shapes.js';
import { cli, installArgs, KEYS, makeServer } from '../install/setup.js';

const tmp = mkdtempSync(join(tmpdir(), 'gk-doctor-'));
// StrictModes refuses anything under /tmp (world-writable): a private dir in /run passes.
const priv = mkdtempSync('/run/gk-doctor-');
chmodSync(priv, 0o700);
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(priv, { recursive: true, force: true });
});
const root = (home: string, shell = '/bin/bash') => ({ name: 'root', uid: 0, gid: 0, home, shell });
const status = (checks: Check[], name: string) => checks.filter((c) => c.check === name).map((c) => c.status);

describe('is the shell clean? (the original setup\'s "protocol version mismatch")', () => {
  it('fails when bash, run as sshd runs it, prints from ~/.bashrc', async () => {
    const home = join(tmp, 'noisy');
    mkdirSync(home);
    writeFileSync(join(home, '.bashrc'), 'echo "Welcome to backup-server"\n');
    const checks = await shellCheck(root(home));
    const c = checks.find((x) => x.check === 'shell is clean')!;
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('25 byte(s)');
    expect(c.detail).toContain('is your shell clean?');
    expect(status(checks, 'shell')).toEqual(['warn']); // bash
  });
  it('passes when ~/.bashrc is quiet for non-interactive shells', async () => {
    const home = join(tmp, 'quiet');
    mkdirSync(home);
    writeFileSync(join(home, '.bashrc'), '[ -z "$PS1" ] && return\necho "Welcome"\n');
    expect(status(await shellCheck(root(home)), 'shell is clean')).toEqual(['ok']);
  });
  it('does not warn about bash for /bin/sh', async () => {
    const checks = await shellCheck(root(join(tmp, 'quiet'), '/bin/sh'));
    expect(status(checks, 'shell')).toEqual([]);
    expect(status(checks, 'shell is clean')).toEqual(['ok']);
  });
});

describe('parsers', () => {
  it.each([
    ['rsync  version 2.5.7  protocol version 26', { version: '2.5.7', protocol: 26 }],
    ['rsync  version 3.5.0  protocol version 32\nCopyright', { version: '3.5.0', protocol: 32 }],
    ['rsync  version v3.2.7  protocol version 31', { version: '3.2.7', protocol: 31 }],
    ['not rsync', null],
  ])('rsync --version %j', (text, want) => expect(parseRsyncVersion(text)).toEqual(want));

  it.each([
    ['/usr/local/bin/gatekeeper gate --policy system-backup', { launcher: '/usr/local/bin/gatekeeper', policy: 'system-backup', policyDir: null }],
    ['/usr/bin/node /opt/gk/gatekeeper.mjs gate --policy p --policy-dir /etc/x', { launcher: '/usr/bin/node', policy: 'p', policyDir: '/etc/x' }],
    ['rsync --server --daemon .', null],
    ['/usr/bin/gate --policy x', null],
  ])('gate command %s', (cmd, want) => {
    const g = parseGateCommand(cmd);
    expect(g && { launcher: g.launcher, policy: g.policy, policyDir: g.policyDir }).toEqual(want);
  });
});

describe('authorized_keys', () => {
  it('reports DSA keys and lines sshd ignores', () => {
    const mixed = readFileSync(join(KEYS, '..', 'mixed'), 'utf8');
    const checks = authorizedKeysChecks(mixed, '/x');
    expect(status(checks, 'DSA key')).toEqual(['fail']);
    expect(checks.filter((c) => c.check === 'authorized_keys').map((c) => c.detail.split(' ')[0])).toEqual(['/x:12', '/x:13', '/x:14']);
  });
  it('judges gate lines: restrictions and an executable, trusted launcher', () => {
    const key = readFileSync(join(KEYS, 'id_ed25519.pub'), 'utf8').trim();
    const launcher = join(priv, 'gatekeeper');
    writeFileSync(launcher, '#!/bin/true\n', { mode: 0o755 });
    const ok = authorizedKeysChecks(`restrict,command="${launcher} gate --policy p" ${key}\n`, '/x');
    expect(status(ok, 'gate line')).toEqual(['ok']);
    const loose = authorizedKeysChecks(`command="${launcher} gate --policy p" ${key}\n`, '/x');
    expect(loose.find((c) => c.check === 'gate line')?.detail).toContain('no restrict');
    const missing = authorizedKeysChecks(`restrict,command="/nonexistent/gatekeeper gate --policy p" ${key}\n`, '/x');
    expect(missing.find((c) => c.check === 'gate line')?.detail).toContain('missing or not executable');
  });
  it('fails a gate line that carries environment=', () => {
    const key = readFileSync(join(KEYS, 'id_ed25519.pub'), 'utf8').trim();
    const launcher = join(priv, 'gatekeeper');
    writeFileSync(launcher, '#!/bin/true\n', { mode: 0o755 });
    const checks = authorizedKeysChecks(`restrict,environment="OPENSSL_CONF=/srv/x.cnf",command="${launcher} gate --policy p" ${key}\n`, '/x');
    expect(checks.find((c) => c.check === 'gate line')).toMatchObject({ status: 'fail', detail: expect.stringContaining('environment= on a gate line') });
  });
  it('walks the modes as StrictModes does', () => {
    const dir = join(priv, 'home', '.ssh');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'authorized_keys');
    writeFileSync(file, '', { mode: 0o600 });
    expect(status(modeChecks(file, root(join(priv, 'home'))), 'authorized_keys modes')).toEqual(['ok']);
    // 644 and a 755 ~/.ssh: sshd's StrictModes accepts them, so a warning, not a failure.
    chmodSync(file, 0o644);
    chmodSync(dir, 0o755);
    expect(modeChecks(file, root(join(priv, 'home')))[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/sshd accepts the file, but .*authorized_keys is mode 644.*\.ssh is mode 755/) });
    // Group- or world-writable, up to the home directory: sshd refuses the file.
    chmodSync(file, 0o664);
    expect(modeChecks(file, root(join(priv, 'home')))[0]).toMatchObject({ status: 'fail', detail: expect.stringMatching(/StrictModes refuses .*authorized_keys is writable by group or others \(664\)/) });
    chmodSync(file, 0o600);
    chmodSync(dir, 0o700);
    chmodSync(join(priv, 'home'), 0o777);
    expect(modeChecks(file, root(join(priv, 'home')))[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('writable by group or others (777)') });
    chmodSync(join(priv, 'home'), 0o755);
    // Owned by another user (not root, not the user): refused.
    chownSync(file, 65534, 65534);
    expect(modeChecks(file, root(join(priv, 'home')))[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('is owned by uid 65534') });
    chownSync(file, 0, 0);
    // Above the home directory sshd stops looking: a writable parent is a warning.
    chmodSync(priv, 0o777);
    expect(modeChecks(file, root(join(priv, 'home')))[0]).toMatchObject({ status: 'warn', detail: expect.stringContaining(`${priv} is writable by group or others (777)`) });
    chmodSync(priv, 0o700);
    // A directory where the file should be: refused.
    expect(modeChecks(dir, root(join(priv, 'home')))[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining('is not a regular file') });
    // Under /tmp (world-writable, even if sticky) sshd refuses the file.
    expect(modeChecks(join(tmp, 'x'), root(tmp))[0]!.status).toBe('fail');
  });
});

describe('sshd -T', () => {
  const keyDir = join(tmp, 'hk');
  mkdirSync(keyDir);
  const key = hostKey(keyDir);
  it.each([
    ['no-include', 'fail'],
    ['debian', 'warn'],
  ] as const)('PermitRootLogin on the %s shape: %s', async (shape, want) => {
    const main = instantiate(shape, join(tmp, `cfg-${shape}`), key);
    const eff = await sshdEffective('/usr/sbin/sshd', main, { user: 'root' });
    if ('error' in eff) throw new Error(eff.error);
    const checks = sshdChecks(eff, root('/root'), '/root/.ssh/authorized_keys', ['/root/.ssh/authorized_keys'], true);
    expect(status(checks, 'PermitRootLogin')).toEqual([want]);
    expect(status(checks, 'ForceCommand')).toEqual(['ok']);
  });
  it.each([
    ['', 'ok', /^a client may set only LANG LC_\*$/],
    ['AcceptEnv TZ\n', 'warn', /TZ \(AcceptEnv TZ\).*window without `timezone`/],
    ['AcceptEnv LC_ALL LANG\n', 'ok', /^a client may set only LC_ALL LANG LANG LC_\*$/],
    ['AcceptEnv OPENSSL_CONF\n', 'fail', /beyond LANG and LC_\* \(AcceptEnv OPENSSL_CONF\), among them OPENSSL_CONF, .*as root/],
    ['AcceptEnv *\n', 'fail', /\(AcceptEnv \*\), among them LD_PRELOAD, .*GLIBC_TUNABLES, .*NODE_OPTIONS, .*NODE_V8_COVERAGE, .*OPENSSL_CONF/],
    ['AcceptEnv NODE_*\n', 'fail', /\(AcceptEnv NODE_\*\), among them NODE_OPTIONS, NODE_PATH, NODE_V8_COVERAGE, NODE_EXTRA_CA_CERTS,/],
    ['AcceptEnv BASH_EN?\n', 'fail', /\(AcceptEnv BASH_EN\?\), among them BASH_ENV,/],
    ['AcceptEnv LANGUAGE\n', 'fail', /\(AcceptEnv LANGUAGE\): only LANG and LC_\* are known to be harmless/],
    ['AcceptEnv LAN?\n', 'fail', /\(AcceptEnv LAN\?\)/],
    ['AcceptEnv TZ XYZZY\n', 'fail', /\(AcceptEnv XYZZY\)/],
  ] as const)('AcceptEnv on the debian shape plus %j: %s', async (extra, want, detail) => {
    const main = instantiate('debian', join(tmp, `cfg-env-${want}-${extra.length}`), key);
    // sshd takes the first value of most keywords, but AcceptEnv lines add up: put the extra first.
    writeFileSync(main, `${extra}${readFileSync(main, 'utf8')}`);
    const eff = await sshdEffective('/usr/sbin/sshd', main, { user: 'root' });
    if ('error' in eff) throw new Error(eff.error);
    const [c] = sshdChecks(eff, root('/root'), '/a', ['/a'], true).filter((x) => x.check === 'AcceptEnv');
    expect(c).toMatchObject({ status: want, detail: expect.stringMatching(detail) });
  });
  it.each([
    ['', 'ok', /^no: sshd ignores/],
    ['PermitUserEnvironment yes\n', 'fail', /^yes: sshd puts \/nonexistent-home\/\.ssh\/environment and authorized_keys environment= into the gate's environment, where OPENSSL_CONF/],
    ['PermitUserEnvironment LANG,OPENSSL_*\n', 'fail', /^LANG,OPENSSL_\*: sshd puts/],
  ] as const)('PermitUserEnvironment on the debian shape plus %j: %s', async (extra, want, detail) => {
    const main = instantiate('debian', join(tmp, `cfg-pue-${want}-${extra.length}`), key);
    writeFileSync(main, `${extra}${readFileSync(main, 'utf8')}`);
    const eff = await sshdEffective('/usr/sbin/sshd', main, { user: 'root' });
    if ('error' in eff) throw new Error(eff.error);
    const [c] = sshdChecks(eff, root('/nonexistent-home'), '/a', ['/a'], true).filter((x) => x.check === 'PermitUserEnvironment');
    expect(c).toMatchObject({ status: want, detail: expect.stringMatching(detail) });
  });
  it('fails on a ForceCommand that would override command=', async () => {
    const main = instantiate('debian', join(tmp, 'cfg-force'), key);
    writeFileSync(main, `${readFileSync(main, 'utf8')}ForceCommand /usr/bin/false\n`);
    const eff = await sshdEffective('/usr/sbin/sshd', main, { user: 'root' });
    if ('error' in eff) throw new Error(eff.error);
    expect(status(sshdChecks(eff, root('/root'), '/a', ['/b'], true), 'ForceCommand')).toEqual(['fail']);
    expect(status(sshdChecks(eff, root('/root'), '/a', ['/b'], true), 'AuthorizedKeysFile')).toEqual(['fail']);
  });
});

describe('policies, log, node', () => {
  it('checks a valid policy: rsync version, protocol and --confine-root support; a missing log directory fails', async () => {
    const dir = join(priv, 'policies');
    mkdirSync(dir, { mode: 0o755 });
    const logDir = join(priv, 'log');
    writeFileSync(join(dir, 'p.yaml'), `root: /srv\nlog: ${logDir}/gk.log\n`, { mode: 0o644 });
    const before = await policyChecks('p', dir, root('/root'));
    expect(before.map((c) => `${c.status} ${c.check}`)).toEqual(['ok policy p', 'ok policy p: rsync', 'ok policy p: confinement', 'fail policy p: log directory']);
    expect(before[1]!.detail).toMatch(/version 3\.\d+\.\d+ protocol version \d+/);
    mkdirSync(logDir, { mode: 0o750 });
    chmodSync(logDir, 0o750);
    expect(logDirCheck('p', logDir, root('/root')).status).toBe('ok');
    chmodSync(logDir, 0o770);
    expect(logDirCheck('p', logDir, root('/root')).detail).toContain('writable by group or others');
  });
  it('log: syslog: ok with the socket there, a failure without (the gate would refuse every session)', async () => {
    const dir = join(priv, 'syslog-policies');
    mkdirSync(dir, { mode: 0o755 });
    const socket = join(priv, 'log.sock');
    writeFileSync(join(dir, 's.yaml'), `root: /srv\nlog: syslog\nsyslogSocket: ${socket}\n`, { mode: 0o644 });
    const logCheck = async () => (await policyChecks('s', dir, root('/root'))).find((c) => c.check === 'policy s: log')!;
    expect(await logCheck()).toMatchObject({ status: 'fail' });
    expect((await logCheck()).detail).toContain(`${socket} is not a socket`);
    const server = createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      expect(await logCheck()).toMatchObject({ status: 'ok', detail: `syslog, through ${socket}` });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
  it('fails an invalid or untrusted policy', async () => {
    writeFileSync(join(tmp, 'bad.yaml'), 'root: relative\n');
    const checks = await policyChecks(join(tmp, 'bad.yaml'), undefined, root('/root'));
    expect(checks.map((c) => c.status)).toEqual(['fail']);
  });
  it('reports node and execve', async () => {
    const c = await nodeCheck(null);
    expect(c.detail).toContain(process.version);
    expect(c.status).toBe(typeof (process as { execve?: unknown }).execve === 'function' ? 'ok' : 'warn');
  });
});

describe('gatekeeper doctor (CLI)', () => {
  it('after install: --json lists the gate line and the policy; exit reflects fails', () => {
    const s = makeServer('no-include', hostKey(join(tmp, 'hk')));
    try {
      const r = cli(installArgs(s, join(KEYS, 'id_ed25519.pub')));
      expect(r.status, r.stderr).toBe(0);
      const d = cli(['doctor', '--json', '--sshd-config', s.sshdConfig, '--authorized-keys', s.authorizedKeys]);
      const checks = JSON.parse(d.stdout) as Check[];
      expect(checks.find((c) => c.check === 'PermitRootLogin')?.status).toBe('ok');
      expect(checks.find((c) => c.check === 'gate line')?.status).toBe('ok');
      expect(checks.find((c) => c.check === 'policy backup')?.status).toBe('ok');
      // The temp authorized_keys is not what this sshd_config reads, and /tmp fails StrictModes: doctor says so.
      expect(checks.find((c) => c.check === 'AuthorizedKeysFile')?.status).toBe('fail');
      expect(d.status).toBe(78);
      const text = cli(['doctor', '--sshd-config', s.sshdConfig, '--authorized-keys', s.authorizedKeys]);
      expect(text.stdout).toMatch(/^ok {4}PermitRootLogin: forced-commands-only/m);
      expect(text.stdout).toMatch(/^fail {2}AuthorizedKeysFile: .* — fix: /m);
    } finally {
      rmSync(s.base, { recursive: true, force: true });
    }
  });
});

describe('the gate cache check', () => {
  it('missing is fine, root-only is used, anything else is flagged with the fix', () => {
    const base = mkdtempSync(join(tmpdir(), 'gk-cache-'));
    const dir = join(base, 'cache');
    expect(cacheCheck(dir)).toMatchObject({ status: 'ok', detail: expect.stringContaining('creates it') });
    mkdirSync(dir, { mode: 0o700 });
    expect(cacheCheck(dir)).toMatchObject({ status: 'ok', detail: expect.stringContaining("root's alone") });
    chmodSync(dir, 0o755);
    expect(cacheCheck(dir)).toMatchObject({ status: 'warn', fix: `chown root:root ${dir} && chmod 700 ${dir}` });
    rmSync(base, { recursive: true });
  });
});

// Replays of the public bypasses of rssh and scponly, the restricted shells
// that allowed rsync before gatekeeper-like gates existed. Each one is the
// command string the exploit sent, run through the real gate: refused, with
// the reason, and the target (a recorder) never runs. Where the exploit did
// not need a bad command line but a bad environment (CVE-2019-3464), the test
// runs an allowed transfer and inspects the environment the target got.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEKEEPER, makeLab, type Lab } from './lab.js';

let lab: Lab;
let daemonPolicy: string;
let daemonConf: string;

beforeAll(() => {
  lab = makeLab('gk-sec-cve-');
  daemonConf = join(lab.dir, 'rsyncd.conf');
  writeFileSync(daemonConf, '[data]\npath = /nonexistent\n', { mode: 0o600 });
  daemonPolicy = lab.writePolicy('daemon', { rsync: lab.recorder, daemon: { config: daemonConf } });
});
afterAll(() => lab?.cleanup());

async function expectRefused(command: string, reason: RegExp, policy?: string): Promise<void> {
  const r = await lab.run(policy ? { command, policy } : { command });
  expect(r.stdout.length, r.stderr).toBe(0);
  expect(r.code, r.stderr).toBe(77);
  expect(r.stderr).toMatch(/^gatekeeper: refused: [^\n]+\n$/);
  expect(r.stderr).toMatch(reason);
  expect(existsSync(lab.marker), `the target ran for ${command}`).toBe(false);
}

describe('CVE-2012-2251 (rssh: dangerous rsync options after a "--" switch)', () => {
  // rssh's rsync filter stopped looking at options at "--"; rsync's own
  // parser (popt) does not stop there for options glued into clusters, and a
  // server keeps parsing options after positional arguments.
  it.each([
    ['"--" then --rsh before "."', 'rsync --server --sender -vlogDtpre.iLsf -- --rsh=/tmp/gk-evil.sh . data/', /"--" is not allowed before the "\." separator/],
    ['"--" then -e after "."', 'rsync --server --sender -vlogDtpre.iLsf . -- -e/tmp/gk-evil.sh data/', /options after the "\." separator are refused \("--"\)/],
    ['-e after the paths', 'rsync --server --sender -vlogDtpre.iLsf . data/ -e /tmp/gk-evil.sh', /options after the "\." separator are refused \("-e"\)/],
  ])('%s is refused', async (_name, command, reason) => {
    await expectRefused(command, reason);
  });
});

describe('CVE-2012-2252 (rssh: --rsh without "=" slipped past a filter for "--rsh=")', () => {
  it.each([
    ['--rsh VALUE (two words)', "rsync --server --sender --rsh 'sh -c id' -vlogDtpre.iLsf . data/", /option --rsh is always refused/],
    ['--rsh=VALUE', "rsync --server --sender '--rsh=sh -c id' -vlogDtpre.iLsf . data/", /option --rsh is always refused/],
    ['-e VALUE (its short form)', "rsync --server --sender -e 'sh -c id' -vlogDtpr . data/", /-e is refused here/],
    ['-eVALUE glued in a cluster', 'rsync --server --sender -vlogDtpre/tmp/gk-evil.sh . data/', /-e is refused here/],
  ])('%s is refused', async (_name, command, reason) => {
    await expectRefused(command, reason);
  });
});

describe('CVE-2019-3463 (rssh: rsync --daemon with a client-chosen --config runs its "pre-xfer exec")', () => {
  it('--daemon --config=UPLOADED is refused under a file-transfer policy', async () => {
    await expectRefused('rsync --server --daemon --config=/tmp/gk-evil.conf .', /option --config is refused/);
  });
  it('plain --daemon is refused under a file-transfer policy (it would read ~/rsyncd.conf)', async () => {
    await expectRefused('rsync --server --daemon .', /not a daemon policy/);
  });
  it('--config is refused under a daemon policy too', async () => {
    await expectRefused('rsync --server --daemon --config=/tmp/gk-evil.conf .', /option --config is refused/, daemonPolicy);
  });
  it('--config in a file transfer is refused', async () => {
    await expectRefused('rsync --server --sender --config=/tmp/gk-evil.conf -vlogDtpre.iLsf . data/', /option --config is always refused/);
  });
  it('a daemon policy runs the policy\'s rsyncd.conf, never one the client names', () => {
    const r = spawnSync(process.execPath, [GATEKEEPER, 'check', '--json', '--policy', daemonPolicy, '--', 'rsync --server --daemon .'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { decision: string; argv: string[] };
    expect(out.decision).toBe('allow');
    expect(out.argv).toEqual([lab.recorder, '--server', '--daemon', `--config=${daemonConf}`, '.']);
  });
});

describe('CVE-2019-3464 (rssh: rsync read ~/.popt from an attacker-writable HOME, whose aliases add any option)', () => {
  it('the target runs with a fixed environment: HOME is a directory no client can write, nothing inherited', async () => {
    const run = makeLab('gk-sec-cve-env-');
    try {
      // An attacker-controlled HOME with a popt alias turning a harmless option into --rsh.
      const evilHome = join(run.dir, 'home');
      mkdirSync(evilHome);
      writeFileSync(join(evilHome, '.popt'), 'rsync alias --numeric-ids --rsh=/tmp/gk-evil.sh\n');
      const r = await run.run({
        command: 'rsync --server --sender -vlogDtpre.iLsf --numeric-ids . data/',
        env: { HOME: evilHome, LD_PRELOAD: '/tmp/gk-evil.so', POPT_ALIAS: 'x', RSYNC_RSH: '/tmp/gk-evil.sh', BASH_ENV: '/tmp/gk-evil.sh' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(run.marker)).toBe(true);
      const env = Object.fromEntries(
        readFileSync(`${run.marker}.env`, 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(env.HOME).toBe('/nonexistent');
      expect(existsSync('/nonexistent')).toBe(false);
      for (const k of ['LD_PRELOAD', 'POPT_ALIAS', 'RSYNC_RSH', 'BASH_ENV', 'SSH_ORIGINAL_COMMAND', 'SSH_CONNECTION']) expect(env, k).not.toHaveProperty(k);
      // What the gate sets, plus what /bin/sh itself adds when it runs the recorder.
      const fromShell = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);
      expect(Object.keys(env).filter((k) => !fromShell.has(k)).sort()).toEqual(['HOME', 'LOGNAME', 'PATH', 'USER']);
    } finally {
      rmSync(run.dir, { recursive: true, force: true });
    }
  });
});

describe('scponly (CVE-2007-6350: rsync allowed as a subcommand, so its -e ran any program)', () => {
  it.each([
    ['client-mode rsync -e', "rsync -e 'sh -c id' x y", /"--server" must be the second word/],
    ['server-mode rsync -e as its own word', 'rsync --server -e sh . data/', /-e is refused here/],
    ['server-mode rsync --rsh', 'rsync --server --rsh=sh . data/', /option --rsh is always refused/],
    ['--rsync-path naming a program', 'rsync --server --rsync-path=/tmp/gk-evil.sh . data/', /option --rsync-path is always refused/],
  ])('%s is refused', async (_name, command, reason) => {
    await expectRefused(command, reason);
  });
});

// The .deb on this machine, for real: dpkg -i, a pull through its
// /usr/bin/gatekeeper, install pointing a forced command at the packaged
// binary, the prerm refusing removal while such a command exists, and
// dpkg --purge leaving nothing behind. This changes the system's dpkg
// database: a lock keeps two runs (two worktrees) apart, and the package is
// purged in a finally. sshd_config and authorized_keys must come out byte
// for byte as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY, DOC, packageFiles } from '../../scripts/lib/package-files.mjs';
import { REPO } from '../helpers/gate.js';
import { authorizedKeysLine, describeRun, startSshd, type Sshd } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot, type Snapshot } from '../helpers/tree.js';
import { artefact, PrivateMounts, VERSION } from './helpers.js';

const DPKG = '/usr/bin/dpkg';
const LOCK = '/tmp/gatekeeper-deb-test.lock';
const BACKUP = ['-avzx', '--numeric-ids', '--delete', '--progress'];
const withoutLinks = (s: Snapshot): Snapshot => Object.fromEntries(Object.entries(s).map(([k, { links: _links, ...v }]) => [k, v]));

function sh(file: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', ...env }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out: `${r.stdout}${r.stderr}` };
}

/** dpkg, waiting while another dpkg or apt (another program on this machine) holds dpkg's lock. */
async function dpkg(args: string[]) {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const r = sh(DPKG, args);
    if (r.status === 0 || !/dpkg (frontend )?lock|locked by another process/i.test(r.out) || Date.now() > deadline) return r;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

/** The system files that must come out unchanged, and what dpkg knows of every package. */
function systemState(): Record<string, string> {
  const hash = (p: string) => (existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'absent');
  const dir = (p: string) => (existsSync(p) ? readdirSync(p).sort().map((n) => `${n}:${hash(join(p, n))}`).join(' ') : 'absent');
  return {
    sshd_config: hash('/etc/ssh/sshd_config'),
    'sshd_config.d': dir('/etc/ssh/sshd_config.d'),
    authorized_keys: hash('/root/.ssh/authorized_keys'),
    'dpkg packages': createHash('sha256').update(sh('/usr/bin/dpkg-query', ['-W', '-f', '${Package}:${Architecture} ${Version} ${Status}\\n']).stdout).digest('hex'),
    '/etc/gatekeeper': existsSync('/etc/gatekeeper') ? 'present' : 'absent',
    '/var/log/gatekeeper': existsSync('/var/log/gatekeeper') ? 'present' : 'absent',
  };
}

/** Wait for the lock (another worktree's run may hold it); a holder that died leaves it to us. */
async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch {
      const holder = Number(readFileSync(LOCK, { encoding: 'utf8', flag: 'r' }).trim() || 0);
      let alive = false;
      try {
        if (holder > 0) process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        alive = false;
      }
      if (!alive) rmSync(LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error(`${LOCK} is held by pid ${holder} for 20 minutes`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
}

describe('the .deb, installed on this machine', { timeout: 20 * 60_000 }, () => {
  let deb: string;
  let before: Record<string, string>;
  let installed = false;
  let sshd: Sshd | undefined;
  let tree: string;
  let locked = false;

  beforeAll(async () => {
    deb = artefact(`gatekeeper_${VERSION}_amd64.deb`);
    await acquireLock();
    locked = true;
    const s = sh('/usr/bin/dpkg-query', ['-W', '-f', '${Status}', 'gatekeeper']);
    if (s.status === 0 && s.stdout.includes('installed')) throw new Error('a gatekeeper package is already installed here (a crashed run?): check it, then dpkg --purge gatekeeper');
    before = systemState();
    sshd = await startSshd({ prefix: 'gk-deb-' });
    tree = join(sshd.dir, 'server-tree');
    buildFixtureTree(tree);
  }, 25 * 60_000);
  afterAll(async () => {
    try {
      if (installed) await dpkg(['--purge', 'gatekeeper']);
      await sshd?.stop();
    } finally {
      if (locked) unlinkSync(LOCK);
    }
  }, 10 * 60_000);

  it('installs with dpkg -i, and dpkg -L lists exactly the file list', async () => {
    const r = await dpkg(['-i', deb]);
    installed = true;
    expect(r.status, r.out).toBe(0);
    const listed = sh('/usr/bin/dpkg-query', ['-L', 'gatekeeper']).stdout.trim().split('\n').filter((p) => !lstatSync(p).isDirectory());
    const expected = packageFiles(REPO, '/x').filter((f) => f.only !== 'rpm').map((f) => (f.kind === 'license' ? `${DOC}/copyright` : f.path!));
    expect(listed.sort()).toEqual([...expected, `${DOC}/changelog.gz`, '/usr/share/lintian/overrides/gatekeeper'].sort());
    expect(sh(BINARY, ['--version']).stdout.trim()).toBe(VERSION);
  });

  it('its /usr/bin/gatekeeper carries a real pull as the forced command', async () => {
    const policy = join(sshd!.dir, 'pull.yaml');
    writeFileSync(policy, `rsync: /usr/bin/rsync\naccess: read-only\nroot: ${tree}\nlog: ${sshd!.dir}/gatekeeper.log\nstateDir: ${sshd!.dir}\n`, { mode: 0o600 });
    sshd!.setAuthorizedKeys([authorizedKeysLine(`${BINARY} gate --policy ${policy}`, sshd!.clientPublicKey)]);
    const dst = join(sshd!.dir, 'dst');
    mkdirSync(dst);
    const r = await sshd!.rsync([...BACKUP, 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(withoutLinks(snapshot(tree)), withoutLinks(snapshot(dst)))).toEqual([]);
  });

  it('install run from the package copies nothing and points the forced command at /usr/bin/gatekeeper', async () => {
    const base = join(sshd!.dir, 'scratch');
    mkdirSync(join(base, 'logrotate.d'), { recursive: true });
    writeFileSync(join(base, 'backup.pub'), `${sshd!.clientPublicKey}\n`);
    const policy = join(sshd!.dir, 'pull.yaml');
    const paths = ['--sshd-config', sshd!.config, '--authorized-keys', sshd!.authorizedKeys, '--prefix', join(base, 'prefix'), '--config-dir', join(base, 'etc'), '--no-reload'];
    const r = sh(BINARY, ['install', '--policy', policy, '--key', join(base, 'backup.pub'), ...paths, '--logrotate-dir', join(base, 'logrotate.d')]);
    expect(r.status, r.out).toBe(0);
    expect(existsSync(join(base, 'prefix')), 'nothing deployed under the prefix').toBe(false);
    expect(readFileSync(sshd!.authorizedKeys, 'utf8')).toContain(`command="${BINARY} gate --policy pull --policy-dir ${base}/etc/policies"`);
    const dst = join(sshd!.dir, 'dst-installed');
    mkdirSync(dst);
    const pull = await sshd!.rsync([...BACKUP, 'root@127.0.0.1:/', `${dst}/`]);
    expect(pull.code, describeRun(pull)).toBe(0);
    expect(diffSnapshots(withoutLinks(snapshot(tree)), withoutLinks(snapshot(dst)))).toEqual([]);
    // doctor --in-use, which the removal scripts ask, sees that line.
    const used = sh(BINARY, ['doctor', '--in-use', BINARY, '--config-dir', join(base, 'etc')]);
    expect(used.status, used.out).toBe(77);
    expect(used.stdout).toContain(`${sshd!.authorizedKeys}:1: command="${BINARY} gate --policy pull`);
    const un = sh(BINARY, ['uninstall', '--all', ...paths]);
    expect(un.status, un.out).toBe(0);
    expect(existsSync(BINARY), 'uninstall leaves the packaged binary to the package').toBe(true);
    expect(sh(BINARY, ['doctor', '--in-use', BINARY, '--config-dir', join(base, 'etc')]).status).toBe(0);
  });

  it("the prerm refuses removal while root's authorized_keys runs the packaged binary, and says what to run", async () => {
    // root's home, seen only inside a private mount namespace, holds such a line.
    const home = join(sshd!.dir, 'root-home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'authorized_keys'), `${authorizedKeysLine(`${BINARY} gate --policy system-backup`, sshd!.clientPublicKey)}\n`, { mode: 0o600 });
    const ns = await PrivateMounts.start();
    let r;
    try {
      ns.bind(home, '/root');
      r = ns.run(DPKG, ['-r', 'gatekeeper'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    } finally {
      ns.stop();
    }
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
    expect(r.stderr).toContain("run 'gatekeeper uninstall --all' first");
    // Still installed (dpkg records the wish to remove it: "deinstall ok installed").
    expect(sh('/usr/bin/dpkg-query', ['-W', '-f', '${Status}', 'gatekeeper']).stdout).toMatch(/ ok installed$/);
    expect(existsSync(BINARY)).toBe(true);
  });

  it('dpkg --purge leaves no file of the package behind and nothing else changed', async () => {
    const files = sh('/usr/bin/dpkg-query', ['-L', 'gatekeeper']).stdout.trim().split('\n');
    const r = await dpkg(['--purge', 'gatekeeper']);
    expect(r.status, r.out).toBe(0);
    installed = false;
    // Every file, and every directory of its own (shared ones such as /usr/share/man/man8 stay).
    expect(files.filter((p) => existsSync(p) && (p.includes('gatekeeper') || !lstatSync(p).isDirectory()))).toEqual([]);
    expect(systemState()).toEqual(before);
  });
});

// install/uninstall --user nobody, whose home is hostile ground: the attacks of
// issue 19 (security 1), each planted *as nobody* (spawned with its uid/gid),
// then install or uninstall run as root through the CLI. A root-only scratch
// file (0600 in a 0700 directory) stands in for /etc/shadow, a root-only
// scratch directory for /root/.ssh. Asserted: the secret's bytes end up in no
// file outside its own, the root-only directory is untouched, and the command
// refuses (exit 77, the component named) rather than follow.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostKey } from '../sshd/shapes.js';
import { GATEKEEPER, KEYS, cli, makeServer, tree, type Server } from './setup.js';

const NOBODY = 65534;
const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const HOSTKEY = hostKey(keyDir);
const bases: string[] = [keyDir];
afterAll(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});
beforeAll(() => {
  if (!existsSync(GATEKEEPER)) throw new Error('run npm run build first');
  const id = spawnSync('/usr/bin/id', ['-u', 'nobody'], { encoding: 'utf8' });
  if (id.stdout.trim() !== String(NOBODY)) throw new Error('these tests need the user nobody (uid 65534)');
});

const ED = join(KEYS, 'id_ed25519.pub');
const SECRET = 'root:$6$gatekeeper-test-secret$not-for-nobody:19000:0:99999:7:::\n';
const ROOT_KEYS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootOnlyDirectoryMarker root-only-marker\n';
const ORIGINAL = 'command="/usr/bin/uptime",no-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDCaS monitoring\n';

interface Home {
  s: Server;
  /** World-traversable scratch base (root 0755) holding home, secret and rootdir. */
  base: string;
  home: string;
  ak: string;
  shadow: string;
  rootDir: string;
  args: string[];
}

/** Run a command as nobody (the attacker). */
function asNobody(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} as nobody: ${r.stderr}`);
}

function makeHome(): Home {
  const s = makeServer('debian', HOSTKEY, { authorizedKeys: null });
  bases.push(s.base);
  const base = mkdtempSync(join(tmpdir(), 'gk-hostile-'));
  bases.push(base);
  chmodSync(base, 0o755);
  const home = join(base, 'home');
  mkdirSync(home, { mode: 0o755 });
  chownSync(home, NOBODY, NOBODY);
  const secretDir = join(base, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  const shadow = join(secretDir, 'shadow');
  writeFileSync(shadow, SECRET, { mode: 0o600 });
  const rootDir = join(base, 'rootdir');
  mkdirSync(rootDir, { mode: 0o700 });
  writeFileSync(join(rootDir, 'authorized_keys'), ROOT_KEYS, { mode: 0o600 });
  const ak = join(home, '.ssh', 'authorized_keys');
  const args = ['--user', 'nobody', '--sshd-config', s.sshdConfig, '--authorized-keys', ak, '--prefix', s.prefix, '--config-dir', s.configDir];
  return { s, base, home, ak, shadow, rootDir, args };
}

const install = (h: Home) => cli(['install', '--policy', h.s.policy, '--key', ED, ...h.args, '--logrotate-dir', h.s.logrotateDir, '--node', '/usr/bin/node', '--no-reload', '--host', 'backup.example.net']);
const uninstallKey = (h: Home) => cli(['uninstall', '--key', ED, ...h.args, '--no-reload']);

/** Every regular file under `dirs` (not following links) whose bytes contain `needle`, but `except`. */
function holders(dirs: string[], needle: string, except: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else if (st.isFile() && p !== except && readFileSync(p).includes(needle)) out.push(p);
  };
  for (const d of dirs) walk(d);
  return out;
}
/** The secret and the root-only directory's bytes are where they were and nowhere else. */
function expectNoLeak(h: Home): void {
  expect(holders([h.base, h.s.base], 'gatekeeper-test-secret', h.shadow)).toEqual([]);
  expect(holders([h.base, h.s.base], 'root-only-marker', join(h.rootDir, 'authorized_keys'))).toEqual([]);
}

describe('install --user nobody: links nobody planted are refused, not followed', () => {
  it('~/.ssh/authorized_keys a symlink to the shadow file: exit 77, nothing read through it', () => {
    const h = makeHome();
    asNobody('/bin/mkdir', '-m', '700', join(h.home, '.ssh'));
    asNobody('/bin/ln', '-s', h.shadow, h.ak);
    const r = install(h);
    expect(r.status, r.stderr).toBe(77);
    expect(r.stderr).toContain(`refusing: ${h.ak} is a symbolic link in ${join(h.home, '.ssh')}, which nobody can change`);
    expect(lstatSync(h.ak).isSymbolicLink()).toBe(true);
    expectNoLeak(h);
  });

  it('~/.ssh a symlink to a root-only directory: exit 77, that directory untouched', () => {
    const h = makeHome();
    const before = tree(h.rootDir);
    asNobody('/bin/ln', '-s', h.rootDir, join(h.home, '.ssh'));
    const r = install(h);
    expect(r.status, r.stderr).toBe(77);
    expect(r.stderr).toContain(`refusing: ${join(h.home, '.ssh')} is a symbolic link in ${h.home}, which nobody can change`);
    expect(tree(h.rootDir)).toEqual(before);
    expectNoLeak(h);
  });

  it('a planted authorized_keys.gatekeeper-bak -> shadow is never the backup: uninstall restores the real original', () => {
    const h = makeHome();
    asNobody('/bin/mkdir', '-m', '700', join(h.home, '.ssh'));
    asNobody('/usr/bin/install', '-m', '600', '/dev/null', h.ak);
    writeFileSync(h.ak, ORIGINAL); // the file stays nobody's
    asNobody('/bin/ln', '-s', h.shadow, `${h.ak}.gatekeeper-bak`);
    const i = install(h);
    expect(i.status, i.stderr).toBe(0);
    expect(readFileSync(h.ak, 'utf8')).toContain('command=');
    expect(lstatSync(h.ak).uid).toBe(NOBODY);
    const u = uninstallKey(h);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(h.ak, 'utf8')).toBe(ORIGINAL);
    expect(lstatSync(h.ak)).toMatchObject({ uid: NOBODY, gid: NOBODY });
    expect(lstatSync(`${h.ak}.gatekeeper-bak`).isSymbolicLink()).toBe(true);
    expectNoLeak(h);
  });

  it("an earlier version's manifest naming the backup next to the file, now a link: not trusted, the line is taken out surgically", () => {
    const h = makeHome();
    asNobody('/bin/mkdir', '-m', '700', join(h.home, '.ssh'));
    asNobody('/usr/bin/install', '-m', '600', '/dev/null', h.ak);
    writeFileSync(h.ak, ORIGINAL);
    expect(install(h).status).toBe(0);
    // What an earlier version recorded: the backup as PATH.gatekeeper-bak.
    const statePath = join(h.s.configDir, 'install-state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { files: Record<string, { backup?: string }> };
    state.files[h.ak]!.backup = `${h.ak}.gatekeeper-bak`;
    writeFileSync(statePath, JSON.stringify(state));
    asNobody('/bin/ln', '-s', h.shadow, `${h.ak}.gatekeeper-bak`);
    const u = uninstallKey(h);
    expect(u.status, u.stderr).toBe(0);
    expect(u.stderr).toContain(`not trusting ${h.ak}.gatekeeper-bak, the backup an earlier version kept next to the file`);
    expect(readFileSync(h.ak, 'utf8')).toBe(ORIGINAL);
    expectNoLeak(h);
  });

  it('a root-owned file nobody cannot read (a hard link to shadow where protected_hardlinks is off): exit 77', () => {
    const h = makeHome();
    asNobody('/bin/mkdir', '-m', '700', join(h.home, '.ssh'));
    // Planted by root: with fs.protected_hardlinks=1 nobody cannot link a file it cannot read.
    linkSync(h.shadow, h.ak);
    const r = install(h);
    expect(r.status, r.stderr).toBe(77);
    expect(r.stderr).toContain(`${h.ak} is owned by root and not readable by nobody`);
    // The only other name of the secret is the link itself, still the same inode.
    expect(lstatSync(h.ak)).toMatchObject({ ino: lstatSync(h.shadow).ino, nlink: 2 });
    expect(holders([h.base, h.s.base], 'gatekeeper-test-secret', h.shadow)).toEqual([h.ak]);
  });

  it('a FIFO as authorized_keys: refused at once, no hang', () => {
    const h = makeHome();
    asNobody('/bin/mkdir', '-m', '700', join(h.home, '.ssh'));
    asNobody('/usr/bin/mkfifo', h.ak);
    const r = install(h);
    expect(r.status, r.stderr).toBe(77);
    expect(r.stderr).toContain(`${h.ak} is not a regular file`);
  });

  it('uninstall: ~/.ssh swapped for a symlink to a root-only directory after install: exit 77, that directory untouched', () => {
    const h = makeHome();
    expect(install(h).status).toBe(0);
    asNobody('/bin/mv', join(h.home, '.ssh'), join(h.home, 'ssh-old'));
    asNobody('/bin/ln', '-s', h.rootDir, join(h.home, '.ssh'));
    const before = tree(h.rootDir);
    const u = uninstallKey(h);
    expect(u.status, u.stderr).toBe(77);
    expect(u.stderr).toContain(`${join(h.home, '.ssh')} is a symbolic link in ${h.home}, which nobody can change`);
    expect(tree(h.rootDir)).toEqual(before);
    expectNoLeak(h);
  });

  it('without tricks: install creates ~/.ssh (0700) and authorized_keys (0600) as nobody\'s, uninstall removes the file again', () => {
    const h = makeHome();
    const i = install(h);
    expect(i.status, i.stderr).toBe(0);
    expect(lstatSync(join(h.home, '.ssh'))).toMatchObject({ uid: NOBODY, gid: NOBODY, mode: 0o40700 });
    expect(lstatSync(h.ak)).toMatchObject({ uid: NOBODY, gid: NOBODY, mode: 0o100600 });
    expect(uninstallKey(h).status).toBe(0);
    expect(existsSync(h.ak)).toBe(false);
  });
});

describe("backups an earlier version kept next to the file", () => {
  it('root-owned all the way up (sshd_config.gatekeeper-bak): moved into CONFIG-DIR/backups and restored from there', () => {
    const s = makeServer('no-include', HOSTKEY);
    bases.push(s.base);
    const original = readFileSync(s.sshdConfig, 'utf8');
    const args = ['install', '--policy', s.policy, '--key', ED, ...s.args, '--logrotate-dir', s.logrotateDir, '--node', '/usr/bin/node', '--no-reload', '--host', 'backup.example.net'];
    expect(cli(args).status).toBe(0);
    // Make the manifest what an earlier version left: the backup next to sshd_config.
    const statePath = join(s.configDir, 'install-state.json');
    const read = () => JSON.parse(readFileSync(statePath, 'utf8')) as { files: Record<string, { backup?: string }> };
    const state = read();
    const legacy = `${s.sshdConfig}.gatekeeper-bak`;
    writeFileSync(legacy, readFileSync(state.files[s.sshdConfig]!.backup!), { mode: 0o600 });
    rmSync(state.files[s.sshdConfig]!.backup!);
    state.files[s.sshdConfig]!.backup = legacy;
    writeFileSync(statePath, JSON.stringify(state));

    const again = cli(args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('not trusting');
    const moved = read().files[s.sshdConfig]!.backup!;
    expect(moved.startsWith(`${join(s.configDir, 'backups')}/`)).toBe(true);
    expect(readFileSync(moved, 'utf8')).toBe(original);
    expect(existsSync(legacy)).toBe(false);
    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(s.sshdConfig, 'utf8')).toBe(original);
    expect(existsSync(join(s.configDir, 'backups'))).toBe(false);
  });
});

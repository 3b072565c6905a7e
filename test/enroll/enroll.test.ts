// gatekeeper enroll / unenroll end to end: two private sshds on loopback stand
// for the server — one the admin logs in to with an admin key (the bootstrap
// login, a plain shell), and the backup sshd whose authorized_keys and
// sshd_config the server's install (run over the admin login, pointed at the
// scratch files with --install-arg) writes. The backup machine is this test
// process with a scratch key dir, storage and unit dir.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEKEEPER, makePrivateDir, REPO, startSshd, SYSTEM_NODE, writePolicy, type Sshd } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

let admin: Sshd;
let server: Sshd;
let dir: string;
let tree: string;
let base: string[];
const pad = (n: number) => String(n).padStart(2, '0');
const h = new Date().getUTCHours();
// A window open now (the probe and the pull must get through), one hour before to two after.
const window = `${pad((h + 23) % 24)}:00-${pad((h + 2) % 24)}:00`;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [GATEKEEPER, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  admin = await startSshd({ prefix: 'gk-enroll-admin-', extraConfig: ['Match all', 'PermitRootLogin yes'] });
  admin.setAuthorizedKeys([admin.clientPublicKey]);
  server = await startSshd({ prefix: 'gk-enroll-server-' });
  dir = makePrivateDir('gk-enroll-');
  tree = join(dir, 'tree');
  buildFixtureTree(tree);
  const policy = writePolicy(join(dir, 'policy-src'), 'nightly', { root: tree, access: 'read-only', log: join(dir, 'log', 'gatekeeper.log'), stateDir: join(dir, 'state'), window: [window], timezone: 'UTC' });
  mkdirSync(join(dir, 'logrotate'));
  mkdirSync(join(dir, 'units'));
  const install = ['--sshd-config', server.config, '--authorized-keys', server.authorizedKeys, '--prefix', join(dir, 'prefix'), '--config-dir', join(dir, 'etc-gatekeeper'), '--node', SYSTEM_NODE, '--logrotate-dir', join(dir, 'logrotate'), '--host', '127.0.0.1'];
  base = [
    'root@127.0.0.1',
    '--policy', policy,
    '-e', `/usr/bin/ssh -F /dev/null -p ${server.port} -o GlobalKnownHostsFile=/dev/null -o IdentityAgent=none -o BatchMode=yes -o LogLevel=ERROR`,
    '--via', 'root@127.0.0.1',
    '--via-e', admin.rsyncShell,
    '--server-gatekeeper', `${process.execPath} ${GATEKEEPER}`,
    '--key-dir', join(dir, 'keys'),
    '--storage', join(dir, 'backups'),
    '--unit-dir', join(dir, 'units'),
    ...install.flatMap((a) => ['--install-arg', a]),
  ];
}, 120_000);
afterAll(async () => {
  await admin?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o777;

describe('gatekeeper enroll, then unenroll', () => {
  it('--dry-run changes nothing on either machine', () => {
    const r = cli(['enroll', ...base, '--dry-run', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { changed: boolean; actions: { what: string; action: string }[] };
    expect(j.changed).toBe(true);
    expect(j.actions.find((a) => a.what === 'the key')?.action).toBe('would create');
    expect(existsSync(join(dir, 'keys'))).toBe(false);
    expect(existsSync(join(dir, 'backups'))).toBe(false);
    expect(readdirSync(join(dir, 'units'))).toEqual([]);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe('');
  });

  it('enrolls: key, pinned host key, install over the admin login, storage 0700, probe + dry-run pull, units that verify and pull an identical tree; twice changes nothing; unenroll undoes both sides', () => {
    const configBefore = readFileSync(server.config, 'utf8');
    const r = cli(['enroll', ...base]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const key = join(dir, 'keys', '127.0.0.1_ed25519');
    expect(mode(key)).toBe(0o600);
    expect(mode(join(dir, 'keys'))).toBe(0o700);
    const pub = readFileSync(`${key}.pub`, 'utf8');
    expect(pub).toMatch(/^ssh-ed25519 \S+ gatekeeper backup: \S+ pulls 127\.0\.0\.1\n$/);
    // The host key pinned is the server's, shown as its fingerprint.
    const hostLine = readFileSync(`${server.hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    expect(readFileSync(join(dir, 'keys', 'known_hosts'), 'utf8')).toBe(`[127.0.0.1]:${server.port} ${hostLine}\n`);
    const fp = spawnSync('/usr/bin/ssh-keygen', ['-lf', `${server.hostKey}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1]!;
    expect(r.stdout).toContain(`created the host key ssh-ed25519 ${fp} (read over root@127.0.0.1, the same at [127.0.0.1]:${server.port}): ${join(dir, 'keys', 'known_hosts')}\n`);
    // The server side: install wrote the gate line for exactly this key.
    const ak = readFileSync(server.authorizedKeys, 'utf8');
    expect(ak).toContain(`restrict,command="${join(dir, 'prefix', 'bin', 'gatekeeper')} gate --policy nightly `);
    expect(ak).toContain(pub.split(' ')[1]);
    const storage = join(dir, 'backups', '127.0.0.1');
    expect(mode(storage)).toBe(0o700);
    expect(r.stdout).toMatch(/^ran the probe: ok: use rsync /m);
    expect(r.stdout).toContain('ran a dry-run pull: rsync --dry-run exited 0');
    expect(readdirSync(storage)).toEqual([]);

    // The units: systemd-analyze verify is the judge; the timer fires inside the window.
    const service = join(dir, 'units', 'gatekeeper-backup-127.0.0.1.service');
    const timer = join(dir, 'units', 'gatekeeper-backup-127.0.0.1.timer');
    const verify = spawnSync('/usr/bin/systemd-analyze', ['verify', service, timer], { encoding: 'utf8' });
    expect({ status: verify.status, output: `${verify.stdout}${verify.stderr}` }).toEqual({ status: 0, output: '' });
    const timerText = readFileSync(timer, 'utf8');
    expect(timerText).toContain(`\nOnCalendar=*-*-* ${window.slice(0, 5)}:00 UTC\n`);
    expect(timerText).toContain('\nRandomizedDelaySec=1800\n');
    expect(timerText).toContain('\nPersistent=true\n');
    const exec = /^ExecStart=(.*)$/m.exec(readFileSync(service, 'utf8'))![1]!;
    expect(exec).toContain(`root@127.0.0.1:${tree}/ ${storage}/latest/`);
    expect(exec).toContain('StrictHostKeyChecking=yes');
    expect(exec).toContain('IdentitiesOnly=yes');
    expect(exec).toContain(`UserKnownHostsFile=${join(dir, 'keys', 'known_hosts')}`);
    // What the timer starts, run once: an identical tree.
    const argv = parse(exec) as string[];
    const ran = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 300_000 });
    expect(ran.status, ran.stderr).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(join(storage, 'latest')))).toEqual([]);

    expect(mode(storage)).toBe(0o700);

    // Twice: nothing changes.
    const again = cli(['enroll', ...base, '--json']);
    expect(again.status, again.stderr).toBe(0);
    const j = JSON.parse(again.stdout) as { changed: boolean; actions: { what: string; action: string }[] };
    expect(j.actions.filter((a) => !['unchanged', 'ran'].includes(a.action))).toEqual([]);
    expect(j.changed).toBe(false);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe(ak);

    // Unenroll: both sides as they were; the backups kept.
    const u = cli(['unenroll', '127.0.0.1', '--key-dir', join(dir, 'keys')]);
    expect(u.status, `${u.stdout}\n${u.stderr}`).toBe(0);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe('');
    expect(readFileSync(server.config, 'utf8')).toBe(configBefore);
    expect(readdirSync(join(dir, 'units'))).toEqual([]);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['known_hosts']);
    expect(readFileSync(join(dir, 'keys', 'known_hosts'), 'utf8')).toBe('');
    expect(diffSnapshots(snapshot(tree), snapshot(join(storage, 'latest')))).toEqual([]);
    const after = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
    expect(after.status).not.toBe(0);
  }, 300_000);

  it('--cron: one cron.d line whose command, run as cron runs it (/bin/sh -c, as root), pulls an identical tree; unenroll removes it', () => {
    const args = base.map((a) => (a === join(dir, 'keys') ? join(dir, 'keys-cron') : a === join(dir, 'backups') ? join(dir, 'backups-cron') : a === join(dir, 'units') ? join(dir, 'cron.d') : a));
    mkdirSync(join(dir, 'cron.d'));
    const r = cli(['enroll', ...args, '--cron']);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(readdirSync(join(dir, 'cron.d'))).toEqual(['gatekeeper-backup-127_0_0_1']);
    const text = readFileSync(join(dir, 'cron.d', 'gatekeeper-backup-127_0_0_1'), 'utf8');
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toHaveLength(1);
    // m h dom mon dow user command: the window's start, in this machine's zone (the test runs in UTC).
    const m = /^(\d+) (\d+) \* \* \* root (.*)$/.exec(lines[0]!)!;
    expect(m, lines[0]).not.toBeNull();
    expect(`${pad(Number(m[2]))}:${pad(Number(m[1]))}`).toBe(window.slice(0, 5));
    const storage = join(dir, 'backups-cron', '127.0.0.1');
    expect(m[3]).toContain(`root@127.0.0.1:${tree}/ ${storage}/latest/`);
    const ran = spawnSync('/bin/sh', ['-c', m[3]!], { encoding: 'utf8', timeout: 300_000, env: { PATH: '/usr/bin:/bin', HOME: '/root', SHELL: '/bin/sh' } });
    expect(ran.status, ran.stderr).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(join(storage, 'latest')))).toEqual([]);
    const u = cli(['unenroll', '127.0.0.1', '--key-dir', join(dir, 'keys-cron')]);
    expect(u.status, `${u.stdout}\n${u.stderr}`).toBe(0);
    expect(readdirSync(join(dir, 'cron.d'))).toEqual([]);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe('');
  }, 300_000);

  it('a host key that changed since it was pinned: refused, 77, nothing sent to the server', () => {
    mkdirSync(join(dir, 'keys2'), { mode: 0o700 });
    const other = join(dir, 'other_host_key');
    spawnSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    writeFileSync(join(dir, 'keys2', 'known_hosts'), `[127.0.0.1]:${server.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`, { mode: 0o600 });
    const args = base.map((a) => (a === join(dir, 'keys') ? join(dir, 'keys2') : a));
    const before = readFileSync(server.authorizedKeys, 'utf8');
    const r = cli(['enroll', ...args]);
    expect(r.status).toBe(77);
    const fp = (pub: string) => `ssh-ed25519 ${spawnSync('/usr/bin/ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).stdout.split(' ')[1]!}`;
    expect(r.stderr).toContain(`gatekeeper: [127.0.0.1]:${server.port}'s host key changed since it was pinned in ${join(dir, 'keys2', 'known_hosts')} (pinned ${fp(`${other}.pub`)}, now ${fp(`${server.hostKey}.pub`)}): verify it out of band`);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe(before);
    expect(readdirSync(join(dir, 'keys2')).sort()).toEqual(['127.0.0.1_ed25519', '127.0.0.1_ed25519.pub', 'known_hosts']);
  });
});

describe('gatekeeper enroll, the host key taken over the admin login', () => {
  it('a backup port answering with a key the server does not serve (here: the admin sshd, as a man in the middle would): refused, 77, both fingerprints named, nothing pinned, nothing sent to the server', () => {
    // -e points the backup connection at the other sshd: it answers with its own host key, while the admin login reads
    // the server's (sshd -T -f the server's sshd_config: its HostKey's .pub).
    const args = base.map((a) => (a === join(dir, 'keys') ? join(dir, 'keys-mitm') : a.replace(`-p ${server.port} `, `-p ${admin.port} `)));
    expect(args.join(' ')).toContain(`-p ${admin.port} `);
    const before = readFileSync(server.authorizedKeys, 'utf8');
    const r = cli(['enroll', ...args]);
    const fp = (pub: string) => `ssh-ed25519 ${spawnSync('/usr/bin/ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).stdout.split(' ')[1]!}`;
    expect(fp(`${admin.hostKey}.pub`)).not.toBe(fp(`${server.hostKey}.pub`));
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 77,
      stderr: `gatekeeper: [127.0.0.1]:${admin.port} answers with host key ${fp(`${admin.hostKey}.pub`)}, which is not one of the keys root@127.0.0.1's sshd serves (read over the admin login from /usr/sbin/sshd -T -f ${server.config}: ${fp(`${server.hostKey}.pub`)}): another machine or daemon answers on that port (a wrong -e port, a forwarded port, or someone in between); nothing was sent to the server\n`,
    });
    expect(existsSync(join(dir, 'keys-mitm', 'known_hosts'))).toBe(false);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe(before);
  });

  it('--dry-run reads the host key over the admin login and says what it would pin, writing nothing', () => {
    const args = base.map((a) => (a === join(dir, 'keys') ? join(dir, 'keys-dry') : a));
    const r = cli(['enroll', ...args, '--dry-run', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { actions: { what: string; action: string; detail: string }[] };
    const fp = spawnSync('/usr/bin/ssh-keygen', ['-lf', `${server.hostKey}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1]!;
    expect(j.actions.find((a) => a.what.startsWith('the host key'))).toEqual({ what: `the host key ssh-ed25519 ${fp} (read over root@127.0.0.1, the same at [127.0.0.1]:${server.port})`, action: 'would create', detail: join(dir, 'keys-dry', 'known_hosts') });
    expect(existsSync(join(dir, 'keys-dry'))).toBe(false);
  });
});

describe('gatekeeper enroll, a server without gatekeeper at --server-gatekeeper', () => {
  // The executable to copy: dist/pkg's linux-x64 executable when npm run package made one, otherwise a launcher of
  // the build (a node script, as install's launcher is); either answers --version as the local gatekeeper does.
  const pkg = join(REPO, 'dist', 'pkg');
  const built = existsSync(pkg) ? readdirSync(pkg).find((n) => /^gatekeeper-.*-linux-x64$/.test(n)) : undefined;
  let exe: string;
  let target: string;
  let args: (keyDir: string) => string[];
  beforeAll(() => {
    if (built) exe = join(pkg, built);
    else {
      exe = join(dir, 'launcher');
      writeFileSync(exe, `#!${process.execPath}\nimport(${JSON.stringify(GATEKEEPER)});\n`, { mode: 0o755 });
    }
    mkdirSync(join(dir, 'server-bin'));
    target = join(dir, 'server-bin', 'gatekeeper');
    args = (keyDir) => base.map((a) => (a === `${process.execPath} ${GATEKEEPER}` ? target : a === join(dir, 'keys') ? join(dir, keyDir) : a));
  });

  it('another architecture: refused, 78, nothing copied', () => {
    const arm = join(REPO, 'runtimes', 'node_modules', 'node24-linux-arm64', 'bin', 'node');
    writeFileSync(join(dir, 'arm-gatekeeper'), readFileSync(arm), { mode: 0o755 });
    const r = cli(['enroll', ...args('keys-arm'), '--executable', join(dir, 'arm-gatekeeper')]);
    expect(r.status, r.stderr).toBe(78);
    expect(r.stderr).toContain(`gatekeeper: root@127.0.0.1 is x86_64 and ${join(dir, 'arm-gatekeeper')} is aarch64: refusing to copy it; pass --executable with the linux-x64 executable`);
    expect(existsSync(target)).toBe(false);
  });

  it('--dry-run says what it would copy; enroll copies it (0755, same bytes, --version checked there); twice leaves it; unenroll undoes the rest', () => {
    const dry = cli(['enroll', ...args('keys3'), '--executable', exe, '--dry-run', '--json']);
    expect(dry.status, dry.stderr).toBe(0);
    const dj = JSON.parse(dry.stdout) as { actions: { what: string; action: string; detail: string }[] };
    const version = spawnSync(exe, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(dj.actions.find((a) => a.what === 'the executable')).toEqual({
      what: 'the executable',
      action: 'would create',
      detail: `${exe} (x86_64, ${version}, ${statSync(exe).size} bytes) to root@127.0.0.1:${target}: install -m 0755 /dev/stdin ${target} (the bytes on stdin)`,
    });
    expect(existsSync(target)).toBe(false);

    const r = cli(['enroll', ...args('keys3'), '--executable', exe]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`created the executable: ${exe} (x86_64, ${version}`);
    expect(r.stdout).toContain(`; ${target} --version there: ${version}`);
    expect(mode(target)).toBe(0o755);
    expect(readFileSync(target).equals(readFileSync(exe))).toBe(true);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toContain('restrict,command=');

    const again = cli(['enroll', ...args('keys3'), '--executable', exe, '--json']);
    expect(again.status, again.stderr).toBe(0);
    const j = JSON.parse(again.stdout) as { changed: boolean; actions: { what: string; action: string; detail: string }[] };
    expect(j.actions.find((a) => a.what === 'the executable')).toEqual({ what: 'the executable', action: 'unchanged', detail: `root@127.0.0.1:${target} (${version})` });
    expect(j.changed).toBe(false);

    const u = cli(['unenroll', '127.0.0.1', '--key-dir', join(dir, 'keys3')]);
    expect(u.status, `${u.stdout}\n${u.stderr}`).toBe(0);
    expect(readFileSync(server.authorizedKeys, 'utf8')).toBe('');
  }, 300_000);
});

// The Ansible role (contrib/ansible/roles/gatekeeper) run by Debian's
// ansible-playbook against two "hosts": two private sshds on 127.0.0.1, each
// with its own sshd_config, authorized_keys, prefix, config and stage
// directory, reached as root with an admin key. Everything Ansible writes
// (local and remote temp, ssh control sockets, its config) is in a scratch
// directory; no system file is touched.
//
// The admin's way in: install makes root forced-commands-only, so a plain
// admin key would be shut out after the first run (install refuses that
// without gatekeeper_accept_lockout). A real fleet logs in as a user with
// sudo; these hosts have no such user, so the admin key carries a forced
// command that runs what the client asked for (`eval "$SSH_ORIGINAL_COMMAND"`:
// a plain login in all but name, for this test only).
import { execFileSync } from 'node:child_process';
import { existsSync, lutimesSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { describeRun, makePrivateDir, readLog, REPO, RSYNC, run, SSH, startSshd, type RunResult, type Sshd } from '../helpers/sshd.js';
import { diffSnapshots, snapshot } from '../helpers/tree.js';
import { waitUntil } from '../helpers/wait.js';

const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';
const ANSIBLE_LINT = '/usr/bin/ansible-lint';
// GK_ANSIBLE_ROLES: run a modified copy of the role (to watch a test go red) without touching this one.
const ROLES = process.env.GK_ANSIBLE_ROLES ?? join(REPO, 'contrib', 'ansible', 'roles');
const BINARY = join(REPO, 'dist', 'pkg', `gatekeeper-${VERSION}-linux-x64`);

interface Host {
  name: string;
  sshd: Sshd;
  src: string;
  log: string;
  prefix: string;
  configDir: string;
}

let work: string;
const hosts: Host[] = [];
let backupKey: string;
let oldKey: string;

const pub = (k: string) => readFileSync(`${k}.pub`, 'utf8').trim();

/** sshd re-executes itself on SIGHUP and logs "Server listening" again. */
const listening = (s: Sshd) => s.sshdLog().split('Server listening on').length - 1;
async function waitListening(s: Sshd, count: number): Promise<void> {
  // No deadline: a slow re-exec is no failure (the test's timeout bounds it); an sshd that died is.
  await waitUntil(() => listening(s) >= count, () => (/fatal|terminating/i.test(s.sshdLog()) ? `sshd did not (re)start:\n${s.sshdLog()}` : null));
}

function keygen(path: string, comment: string): string {
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
  return path;
}

/** A tree with the awkward cases: a space in a name, a symlink, a nested directory; times in the past. */
function makeTree(root: string, tag: string): void {
  mkdirSync(join(root, 'etc', 'sub'), { recursive: true });
  writeFileSync(join(root, 'etc', 'hosts'), `127.0.0.1 ${tag}\n`);
  writeFileSync(join(root, 'etc', 'sub', 'with space.txt'), tag.repeat(5000));
  symlinkSync('hosts', join(root, 'etc', 'link'));
  const past = new Date('2024-01-02T03:04:05Z');
  lutimesSync(join(root, 'etc', 'link'), past, past);
  for (const p of ['etc/hosts', 'etc/sub/with space.txt', 'etc/sub', 'etc', '.']) utimesSync(join(root, p), past, past);
}

function writeInventory(): string {
  const inventory = {
    all: {
      vars: {
        ansible_host: '127.0.0.1',
        ansible_user: 'root',
        ansible_python_interpreter: '/usr/bin/python3',
        gatekeeper_binary: BINARY,
      },
      hosts: Object.fromEntries(
        hosts.map((h) => [
          h.name,
          {
            ansible_port: h.sshd.port,
            ansible_ssh_private_key_file: h.sshd.clientKey,
            ansible_ssh_common_args: `-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=${join(work, 'known_hosts')} -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes`,
            gatekeeper_sshd_config: h.sshd.config,
            gatekeeper_authorized_keys: h.sshd.authorizedKeys,
            gatekeeper_prefix: h.prefix,
            gatekeeper_config_dir: h.configDir,
            gatekeeper_stage_dir: join(h.sshd.dir, 'stage'),
            gatekeeper_logrotate_dir: join(h.sshd.dir, 'logrotate.d'),
            gatekeeper_sshd_pid_file: join(h.sshd.dir, 'sshd.pid'),
            // One host's policy inline, the other's from a file on the controller.
            gatekeeper_policies:
              h.name === 'alpha'
                ? { pull: { description: `pull ${h.name}`, root: h.src, log: h.log, access: 'read-only' } }
                : { pull: writePolicyFile(h) },
          },
        ]),
      ),
    },
  };
  const file = join(work, 'inventory.yml');
  writeFileSync(file, stringify(inventory));
  return file;
}

function writePolicyFile(h: Host): string {
  const file = join(work, `policy-${h.name}.yaml`);
  writeFileSync(file, stringify({ description: `pull ${h.name}`, root: h.src, log: h.log, access: 'read-only' }), { mode: 0o644 });
  return file;
}

interface Recap {
  stats: Record<string, { ok: number; changed: number; unreachable: number; failures: number; skipped: number }>;
}

/**
 * The PLAY RECAP of the default callback, one line per host:
 * `alpha : ok=12 changed=3 unreachable=0 failed=0 skipped=2 rescued=0 ignored=0`.
 * (Debian's ansible-core carries no json callback: that one lives in the ansible.posix collection.)
 */
export function parseRecap(stdout: string): Recap | null {
  const at = stdout.lastIndexOf('PLAY RECAP *');
  if (at === -1) return null;
  const stats: Recap['stats'] = {};
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/.exec(line);
    if (m) stats[m[1]!] = { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failures: Number(m[5]), skipped: Number(m[6]) };
  }
  return Object.keys(stats).length ? { stats } : null;
}

/** ansible-playbook with the default callback, everything it writes kept under `work`. */
async function playbook(keys: { key: string; policy: string; from?: string[] }[], extra: string[] = []): Promise<{ recap: Recap; run: RunResult }> {
  const varsFile = join(work, 'keys.json');
  writeFileSync(varsFile, JSON.stringify({ gatekeeper_keys: keys }));
  const r = await run(ANSIBLE_PLAYBOOK, ['-i', join(work, 'inventory.yml'), '-e', `@${varsFile}`, ...extra, join(work, 'playbook.yml')], {
    env: ansibleEnv(),
    cwd: work,
    timeoutMs: 600_000,
  });
  const recap = parseRecap(r.stdout);
  if (!recap) throw new Error(`ansible-playbook printed no PLAY RECAP: ${describeRun(r)}`);
  return { recap, run: r };
}

function ansibleEnv(): Record<string, string> {
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: join(work, 'home'),
    LANG: 'C.UTF-8',
    ANSIBLE_CONFIG: join(work, 'ansible.cfg'),
    ANSIBLE_LOCAL_TEMP: join(work, 'local-tmp'),
    ANSIBLE_REMOTE_TEMP: join(work, 'remote-tmp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    ANSIBLE_ROLES_PATH: ROLES,
    ANSIBLE_LOG_PATH: process.env.GK_ANSIBLE_LOG ?? join(work, 'ansible.log'),
  };
}

/** A pull as the backup client runs it: only the backup key, through the host's gate. */
function pull(h: Host, key: string, dst: string): Promise<RunResult> {
  const shell = [SSH, '-F', '/dev/null', '-i', key, '-p', String(h.sshd.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'LogLevel=ERROR'].join(' ');
  return run(RSYNC, ['-e', shell, '-a', '--numeric-ids', `root@127.0.0.1:${h.src}/`, `${dst}/`]);
}

const gateLines = (h: Host) => readFileSync(h.sshd.authorizedKeys, 'utf8').split('\n').filter((l) => l.includes(' gate --policy '));

beforeAll(async () => {
  for (const tool of [ANSIBLE_PLAYBOOK, ANSIBLE_LINT]) if (!existsSync(tool)) throw new Error(`${tool} is missing: bash scripts/system-deps.sh installs it`);
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run package`);
  work = makePrivateDir('gk-ansible-');
  for (const d of ['home', 'local-tmp', 'remote-tmp', 'cp']) mkdirSync(join(work, d), { mode: 0o700 });
  writeFileSync(
    join(work, 'ansible.cfg'),
    [
      '[defaults]',
      'host_key_checking = False',
      'retry_files_enabled = False',
      'interpreter_python = /usr/bin/python3',
      'gathering = explicit',
      'forks = 2',
      '',
      '[ssh_connection]',
      'pipelining = True',
      // No sftp subsystem on the private sshds: files go through dd on the ssh channel.
      'transfer_method = piped',
      // One connection per host for the whole run (each task would otherwise log in anew); idle masters exit after 30 s.
      'ssh_args = -o ControlMaster=auto -o ControlPersist=30s',
      `control_path_dir = ${join(work, 'cp')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(work, 'playbook.yml'), stringify([{ name: 'Roll out gatekeeper', hosts: 'all', gather_facts: false, roles: [{ role: 'gatekeeper' }] }]));
  backupKey = keygen(join(work, 'backup_ed25519'), 'backup@client');
  oldKey = keygen(join(work, 'old_ed25519'), 'old@client');
  for (const name of ['alpha', 'beta']) {
    const sshd = await startSshd({ prefix: `gk-ansible-${name}-` });
    const h: Host = { name, sshd, src: join(sshd.dir, 'data'), log: join(sshd.dir, 'log', 'gatekeeper.log'), prefix: join(sshd.dir, 'prefix'), configDir: join(sshd.dir, 'etc-gatekeeper') };
    hosts.push(h);
    makeTree(h.src, name);
    mkdirSync(join(sshd.dir, 'logrotate.d'));
    // Debian's default: root logs in with any key. install will make it forced-commands-only.
    const config = readFileSync(sshd.config, 'utf8');
    expect(config).toContain('\nPermitRootLogin forced-commands-only\n');
    writeFileSync(sshd.config, config.replace('\nPermitRootLogin forced-commands-only\n', '\nPermitRootLogin prohibit-password\n'));
    sshd.setAuthorizedKeys([`command="eval \\"$SSH_ORIGINAL_COMMAND\\"" ${sshd.clientPublicKey}`]);
    const n = listening(sshd);
    process.kill(sshd.pid, 'SIGHUP');
    await waitListening(sshd, n + 1);
  }
  writeInventory();
}, 120_000);

afterAll(async () => {
  for (const h of hosts) await h.sshd.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the gatekeeper role', () => {
  it('is clean under ansible-lint (offline, production profile)', async () => {
    const r = await run(ANSIBLE_LINT, ['--offline', '--nocolor', 'roles/gatekeeper'], {
      cwd: join(REPO, 'contrib', 'ansible'),
      env: { PATH: '/usr/bin:/bin', HOME: join(work, 'home'), LANG: 'C.UTF-8', ANSIBLE_LOCAL_TEMP: join(work, 'local-tmp'), NO_COLOR: '1' },
      timeoutMs: 300_000,
    });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Passed with production profile/);
  }, 300_000);

  const listenedAtStart = new Map<string, number>();
  const keysAfterFirst = new Map<string, string>();

  it('first run changes both hosts and reloads each sshd once; the second changes nothing', async () => {
    for (const h of hosts) listenedAtStart.set(h.name, listening(h.sshd));
    const wanted = [
      { key: pub(backupKey), policy: 'pull' },
      { key: pub(oldKey), policy: 'pull', from: ['127.0.0.1'] },
    ];
    const first = await playbook(wanted);
    for (const h of hosts) {
      expect(first.recap.stats[h.name], describeRun(first.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(first.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      expect(readFileSync(h.sshd.config, 'utf8')).toContain('\nPermitRootLogin forced-commands-only\n');
      const lines = gateLines(h);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain(`command="${h.prefix}/bin/gatekeeper gate --policy pull --policy-dir ${h.configDir}/policies"`);
      expect(lines[1]).toMatch(/from="127\.0\.0\.1" ssh-ed25519 \S+ old@client$/);
      // The handler's SIGHUP: sshd re-executed once.
      await waitListening(h.sshd, listenedAtStart.get(h.name)! + 1);
      keysAfterFirst.set(h.name, readFileSync(h.sshd.authorizedKeys, 'utf8'));
    }

    const second = await playbook(wanted);
    for (const h of hosts) {
      expect(second.recap.stats[h.name], describeRun(second.run)).toMatchObject({ changed: 0, failures: 0, unreachable: 0 });
      expect(readFileSync(h.sshd.authorizedKeys, 'utf8')).toBe(keysAfterFirst.get(h.name));
      // No second reload: one restart in all.
      expect(listening(h.sshd)).toBe(listenedAtStart.get(h.name)! + 1);
    }
  }, 1_800_000);

  it('a pull through each host\'s gate with the backup key gives an identical tree', async () => {
    for (const h of hosts) {
      const dst = join(work, `dst-${h.name}`);
      const r = await pull(h, backupKey, dst);
      expect(r.code, `${describeRun(r)}\n${h.sshd.sshdLog()}`).toBe(0);
      expect(diffSnapshots(snapshot(h.src), snapshot(dst))).toEqual([]);
      // It went through the gate: the policy's log has the allow record.
      expect(readLog(h.log).map((x) => x.event)).toContain('allow');
    }
  }, 120_000);

  it('a key dropped from gatekeeper_keys: check mode changes nothing, the run removes its line and nothing else', async () => {
    const wanted = [{ key: pub(backupKey), policy: 'pull' }];
    const check = await playbook(wanted, ['--check']);
    for (const h of hosts) {
      expect(check.recap.stats[h.name], describeRun(check.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(check.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      expect(readFileSync(h.sshd.authorizedKeys, 'utf8')).toBe(keysAfterFirst.get(h.name));
    }
    const configs = hosts.map((h) => readFileSync(h.sshd.config, 'utf8'));

    const r = await playbook(wanted);
    for (const [i, h] of hosts.entries()) {
      expect(r.recap.stats[h.name], describeRun(r.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(r.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      const before = keysAfterFirst.get(h.name)!.split('\n');
      const after = readFileSync(h.sshd.authorizedKeys, 'utf8').split('\n');
      // The old key's line went; every other line kept its bytes and order.
      expect(before.filter((l) => !after.includes(l))).toEqual([expect.stringMatching(/ old@client$/)]);
      expect(after).toEqual(before.filter((l) => !l.endsWith(' old@client')));
      expect(readFileSync(h.sshd.config, 'utf8')).toBe(configs[i]);
      // The old key no longer gets in; the backup key still does.
      const refused = await pull(h, oldKey, join(work, `old-${h.name}`));
      expect(refused.code).not.toBe(0);
      const again = await pull(h, backupKey, join(work, `again-${h.name}`));
      expect(again.code, describeRun(again)).toBe(0);
    }
  }, 1_800_000);
});

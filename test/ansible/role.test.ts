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
const KEYGEN = '/usr/bin/ssh-keygen';
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
            // The host's scratch directory: the certificate and revocation tests put their files under it.
            gk_dir: h.sshd.dir,
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
async function playbook(keys: { key: string; policy: string; from?: string[] }[], extra: string[] = [], vars: Record<string, unknown> = {}): Promise<{ recap: Recap; run: RunResult }> {
  const varsFile = join(work, 'keys.json');
  writeFileSync(varsFile, JSON.stringify({ gatekeeper_keys: keys, ...vars }));
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

/** A pull as the backup client runs it: only the backup key (and its certificate, when it has one), through the host's gate. */
function pull(h: Host, key: string, dst: string): Promise<RunResult> {
  const cert = existsSync(`${key}-cert.pub`) ? ['-o', `CertificateFile=${key}-cert.pub`] : [];
  const shell = [SSH, '-F', '/dev/null', '-i', key, ...cert, '-p', String(h.sshd.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'LogLevel=ERROR'].join(' ');
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
    // The harness switches principals files off; a server without that line is the ordinary case.
    expect(config).toContain('\nAuthorizedPrincipalsFile none\n');
    writeFileSync(sshd.config, config.replace('\nPermitRootLogin forced-commands-only\n', '\nPermitRootLogin prohibit-password\n').replace('\nAuthorizedPrincipalsFile none\n', '\n'));
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

  it('refuses wrong certificate and revocation variables in preflight, before it touches a host', async () => {
    const pb = join(work, 'preflight.yml');
    writeFileSync(pb, stringify([{ name: 'Preflight only', hosts: 'localhost', gather_facts: false, tasks: [{ name: 'Preflight', 'ansible.builtin.include_role': { name: 'gatekeeper', tasks_from: 'preflight' } }] }]));
    const ca = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample ca';
    const cases: [Record<string, unknown>, RegExp | null][] = [
      [{ gatekeeper_principals: [{ name: 'backup-pull', policy: 'pull' }] }, /gatekeeper_ca \| trim \| length > 0/],
      [{ gatekeeper_ca: ca, gatekeeper_principals: [{ name: 'p', policy: 'pull' }, { name: 'p', policy: 'other' }] }, /unique/],
      [{ gatekeeper_ca: 'files/missing-ca.pub', gatekeeper_principals: [{ name: 'p', policy: 'pull' }] }, /is file/],
      [{ gatekeeper_revoked: [{ serial: 3 }], gatekeeper_ca: ca }, /gatekeeper_revoked_keys \| length > 0/],
      [{ gatekeeper_revoked_keys: 'revoked_keys' }, /match\('\^\/'\)/],
      [{ gatekeeper_revoked_keys: '/etc/ssh/revoked', gatekeeper_ca: ca, gatekeeper_revoked: [{ key: ca, serial: 3 }] }, /reject\('eq', 1\)/],
      [{ gatekeeper_revoked_keys: '/etc/ssh/revoked', gatekeeper_revoked: [{ key: 'not a key' }] }, /rejectattr\('key', 'match'/],
      [{ gatekeeper_revoked_keys: '/etc/ssh/revoked', gatekeeper_revoked: [{ key_id: 'old' }] }, /rejectattr\('key', 'defined'\)/],
      [{ gatekeeper_ca: ca, gatekeeper_principals: [{ name: 'p', policy: 'pull' }], gatekeeper_revoked_keys: '/etc/ssh/revoked', gatekeeper_revoked: [{ serial: 3 }, { key_id: 'old' }, { key: ca }] }, null],
    ];
    for (const [vars, refusal] of cases) {
      const varsFile = join(work, 'preflight.json');
      writeFileSync(varsFile, JSON.stringify({ gatekeeper_binary: BINARY, ...vars }));
      const r = await run(ANSIBLE_PLAYBOOK, ['-i', 'localhost,', '-c', 'local', '-e', `@${varsFile}`, pb], { env: ansibleEnv(), cwd: work, timeoutMs: 300_000 });
      const recap = parseRecap(r.stdout);
      const what = `${JSON.stringify(vars)}\n${describeRun(r)}`;
      if (refusal === null) expect(recap?.stats['localhost'], what).toMatchObject({ failures: 0 });
      else {
        expect(recap?.stats['localhost'], what).toMatchObject({ failures: 1 });
        expect(r.stdout, what).toMatch(refusal);
      }
    }
  }, 600_000);

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

  // Certificates: a CA of the test's own (on the controller) and two
  // certificates signed by it, for two principals, as OpenSSH's regress
  // tests make them (ssh-keygen -s CA -I ID -n PRINCIPAL -z SERIAL).
  let caPub: string;
  let certKey: string;
  let retiredKey: string;
  const etcSsh = (h: Host) => join(h.sshd.dir, 'etc-ssh');
  const caFile = (h: Host) => join(etcSsh(h), 'gatekeeper_user_ca.pub');
  const principalsFile = (h: Host) => join(etcSsh(h), 'gatekeeper_principals', 'root');
  const krl = (h: Host, name = 'revoked_keys') => join(h.sshd.dir, name);
  const bare = (key: string) => key.split(' ').slice(0, 2).join(' ');
  const certVars = (ca: string, principals: { name: string; policy: string; from?: string[] }[]) => ({
    gatekeeper_ca: ca,
    gatekeeper_principals: principals,
    gatekeeper_ca_file: '{{ gk_dir }}/etc-ssh/gatekeeper_user_ca.pub',
    gatekeeper_principals_dir: '{{ gk_dir }}/etc-ssh/gatekeeper_principals',
  });
  const bothPrincipals = [
    { name: 'backup-pull', policy: 'pull' },
    { name: 'retired-pull', policy: 'pull', from: ['127.0.0.1'] },
  ];
  const keysNow = () => [{ key: pub(backupKey), policy: 'pull' }];
  /** `gatekeeper keys --json` on the host: the shipped executable runs here too. */
  function recorded(h: Host): { keys: { key: string; revoked: boolean | null }[]; principals: { name: string; policy: string; from: string[] | null; present: boolean }[]; cas: { key: string }[]; revokedKeys: string | null } {
    const out = execFileSync(join(h.sshd.dir, 'stage', 'gatekeeper'), ['keys', '--json', '--config-dir', h.configDir, '--user', 'root'], { encoding: 'utf8' });
    return JSON.parse(out) as ReturnType<typeof recorded>;
  }
  /** sshd's effective settings for root's sessions from 127.0.0.1, as `sshd -T -C` prints them (keyword value). */
  function effective(h: Host): string[] {
    return execFileSync('/usr/sbin/sshd', ['-T', '-f', h.sshd.config, '-C', 'user=root,host=localhost,addr=127.0.0.1'], { encoding: 'utf8' }).split('\n');
  }
  const sshdLogSince = (h: Host, at: number) => h.sshd.sshdLog().slice(at);

  it('gatekeeper_ca and gatekeeper_principals: CA file, principals file and sshd_config as install writes them, a certificate pulls through the gate, a second run changes nothing', async () => {
    execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'backup-ca', '-f', join(work, 'ca')]);
    caPub = join(work, 'ca.pub');
    const certify = (name: string, principal: string, id: string, serial: number) => {
      const key = keygen(join(work, name), `${name}@client`);
      execFileSync(KEYGEN, ['-q', '-s', join(work, 'ca'), '-I', id, '-n', principal, '-z', String(serial), `${key}.pub`]);
      return key;
    };
    certKey = certify('cert_ed25519', 'backup-pull', 'backup-cert', 7);
    retiredKey = certify('retired_ed25519', 'retired-pull', 'retired-cert', 8);
    const listened = new Map<string, number>();
    for (const h of hosts) {
      // /etc/ssh on a real host: there already, root's.
      mkdirSync(etcSsh(h), { mode: 0o755 });
      listened.set(h.name, listening(h.sshd));
    }

    // gatekeeper_ca as a path on the controller.
    const first = await playbook(keysNow(), [], certVars(caPub, bothPrincipals));
    const afterFirst = new Map<string, string[]>();
    for (const h of hosts) {
      expect(first.recap.stats[h.name], describeRun(first.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(first.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      expect(readFileSync(caFile(h), 'utf8').trim().split('\n').map(bare)).toEqual([bare(pub(join(work, 'ca')))]);
      const gate = `${h.prefix}/bin/gatekeeper gate --policy pull --policy-dir ${h.configDir}/policies`;
      const lines = readFileSync(principalsFile(h), 'utf8').split('\n');
      expect(lines).toEqual([
        `restrict,command="${gate}" backup-pull`,
        expect.stringMatching(new RegExp(`^restrict,command="${gate.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}",from="127\\.0\\.0\\.1" retired-pull$`)),
        '',
      ]);
      const config = readFileSync(h.sshd.config, 'utf8').split('\n');
      expect(config).toEqual(expect.arrayContaining([`TrustedUserCAKeys ${caFile(h)}`, `AuthorizedPrincipalsFile ${etcSsh(h)}/gatekeeper_principals/%u`, 'ExposeAuthInfo yes']));
      expect(effective(h)).toEqual(expect.arrayContaining([`trustedusercakeys ${caFile(h)}`, `authorizedprincipalsfile ${etcSsh(h)}/gatekeeper_principals/%u`, 'exposeauthinfo yes']));
      const rec = recorded(h);
      expect(rec.principals.map((p) => [p.name, p.policy, p.from, p.present])).toEqual([['backup-pull', 'pull', null, true], ['retired-pull', 'pull', ['127.0.0.1'], true]]);
      expect(rec.cas.map((c) => c.key)).toEqual([bare(pub(join(work, 'ca')))]);
      // One reload for the whole run, before anyone pulls.
      await waitListening(h.sshd, listened.get(h.name)! + 1);
      const at = h.sshd.sshdLog().length;
      const dst = join(work, `cert-${h.name}`);
      const r = await pull(h, certKey, dst);
      expect(r.code, `${describeRun(r)}\n${h.sshd.sshdLog()}`).toBe(0);
      expect(diffSnapshots(snapshot(h.src), snapshot(dst))).toEqual([]);
      expect(sshdLogSince(h, at)).toMatch(/Accepted certificate ID "backup-cert" \(serial 7\) signed by ED25519 CA/);
      afterFirst.set(h.name, [readFileSync(caFile(h), 'utf8'), readFileSync(principalsFile(h), 'utf8'), readFileSync(h.sshd.config, 'utf8')]);
    }

    // The same CA as text: the same state, nothing changes, no reload.
    const second = await playbook(keysNow(), [], certVars(readFileSync(caPub, 'utf8'), bothPrincipals));
    for (const h of hosts) {
      expect(second.recap.stats[h.name], describeRun(second.run)).toMatchObject({ changed: 0, failures: 0, unreachable: 0 });
      expect([readFileSync(caFile(h), 'utf8'), readFileSync(principalsFile(h), 'utf8'), readFileSync(h.sshd.config, 'utf8')]).toEqual(afterFirst.get(h.name));
      expect(listening(h.sshd)).toBe(listened.get(h.name)! + 1);
    }
  }, 1_800_000);

  it('a principal dropped from gatekeeper_principals: check mode changes nothing, the run removes its line and sshd refuses its certificate', async () => {
    const wanted = [bothPrincipals[0]!];
    const before = hosts.map((h) => readFileSync(principalsFile(h), 'utf8'));
    const check = await playbook(keysNow(), ['--check'], certVars(caPub, wanted));
    for (const [i, h] of hosts.entries()) {
      expect(check.recap.stats[h.name], describeRun(check.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(check.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      expect(readFileSync(principalsFile(h), 'utf8')).toBe(before[i]);
    }
    const r = await playbook(keysNow(), [], certVars(caPub, wanted));
    for (const [i, h] of hosts.entries()) {
      expect(r.recap.stats[h.name], describeRun(r.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(r.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      // The retired principal's line went; the other kept its bytes.
      expect(readFileSync(principalsFile(h), 'utf8')).toBe(before[i]!.split('\n').filter((l) => !l.endsWith(' retired-pull')).join('\n'));
      expect(recorded(h).principals.map((p) => p.name)).toEqual(['backup-pull']);
      const at = h.sshd.sshdLog().length;
      const refused = await pull(h, retiredKey, join(work, `retired-${h.name}`));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/Permission denied/);
      expect(sshdLogSince(h, at)).toMatch(/does not contain an authorized principal/);
      const again = await pull(h, certKey, join(work, `cert-again-${h.name}`));
      expect(again.code, describeRun(again)).toBe(0);
    }
  }, 1_800_000);

  const rkVars = (file: string, revoked: Record<string, unknown>[]) => ({
    ...certVars(caPub, [bothPrincipals[0]!]),
    gatekeeper_revoked_keys: file,
    gatekeeper_revoked: revoked,
  });

  it('gatekeeper_revoked_keys and gatekeeper_revoked: RevokedKeys as install writes it; a key and a certificate revoked are refused by sshd; a second run changes nothing', async () => {
    const listened = new Map(hosts.map((h) => [h.name, listening(h.sshd)]));
    const first = await playbook(keysNow(), [], rkVars('{{ gk_dir }}/revoked_keys', []));
    for (const h of hosts) {
      expect(first.recap.stats[h.name], describeRun(first.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(first.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      expect(readFileSync(h.sshd.config, 'utf8').split('\n')).toContain(`RevokedKeys ${krl(h)}`);
      expect(effective(h)).toContain(`revokedkeys ${krl(h)}`);
      // An empty KRL, as ssh-keygen reads it: nothing revoked yet.
      expect(execFileSync(KEYGEN, ['-Q', '-f', krl(h), `${backupKey}.pub`], { encoding: 'utf8' })).toMatch(/: ok$/m);
      expect(recorded(h).revokedKeys).toBe(krl(h));
      await waitListening(h.sshd, listened.get(h.name)! + 1);
      for (const key of [backupKey, certKey]) {
        const r = await pull(h, key, join(work, `pre-revoke-${h.name}-${key.split('/').pop()}`));
        expect(r.code, describeRun(r)).toBe(0);
      }
    }

    const revoked = [{ key: pub(backupKey) }, { serial: 7 }, { key_id: 'retired-cert' }];
    const second = await playbook(keysNow(), [], rkVars('{{ gk_dir }}/revoked_keys', revoked));
    const lists = new Map<string, Buffer>();
    for (const h of hosts) {
      expect(second.recap.stats[h.name], describeRun(second.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(second.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      // sshd reads the list at every login: no reload.
      expect(listening(h.sshd)).toBe(listened.get(h.name)! + 1);
      for (const key of [backupKey, certKey]) {
        const at = h.sshd.sshdLog().length;
        const r = await pull(h, key, join(work, `revoked-${h.name}-${key.split('/').pop()}`));
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/Permission denied/);
        expect(sshdLogSince(h, at)).toMatch(/revoked by file/);
      }
      expect(recorded(h).keys.map((k) => [k.key, k.revoked])).toEqual([[bare(pub(backupKey)), true]]);
      // By key ID: the retired certificate (its principal is gone already, so sshd's refusal proves nothing here).
      const q = await run(KEYGEN, ['-Q', '-f', krl(h), `${retiredKey}-cert.pub`]);
      expect(q.stdout).toMatch(/: REVOKED$/m);
      lists.set(h.name, readFileSync(krl(h)));
    }

    const third = await playbook(keysNow(), [], rkVars('{{ gk_dir }}/revoked_keys', revoked));
    for (const h of hosts) {
      expect(third.recap.stats[h.name], describeRun(third.run)).toMatchObject({ changed: 0, failures: 0, unreachable: 0 });
      expect(readFileSync(krl(h)).equals(lists.get(h.name)!)).toBe(true);
    }
  }, 1_800_000);

  it('gatekeeper_revoked_keys naming another list, then emptied: RevokedKeys follows, the old lists stay', async () => {
    const listened = new Map(hosts.map((h) => [h.name, listening(h.sshd)]));
    const moved = await playbook(keysNow(), [], rkVars('{{ gk_dir }}/revoked_keys.new', []));
    for (const h of hosts) {
      expect(moved.recap.stats[h.name], describeRun(moved.run)).toMatchObject({ failures: 0, unreachable: 0 });
      const config = readFileSync(h.sshd.config, 'utf8').split('\n');
      expect(config.filter((l) => l.startsWith('RevokedKeys '))).toEqual([`RevokedKeys ${krl(h, 'revoked_keys.new')}`]);
      expect(recorded(h).revokedKeys).toBe(krl(h, 'revoked_keys.new'));
      expect(existsSync(krl(h))).toBe(true);
      await waitListening(h.sshd, listened.get(h.name)! + 1);
      // The new list revokes nothing: the backup key gets in again.
      const r = await pull(h, backupKey, join(work, `moved-${h.name}`));
      expect(r.code, describeRun(r)).toBe(0);
    }

    const none = await playbook(keysNow(), [], rkVars('', []));
    for (const h of hosts) {
      expect(none.recap.stats[h.name], describeRun(none.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(none.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      expect(readFileSync(h.sshd.config, 'utf8')).not.toMatch(/^RevokedKeys /m);
      expect(effective(h)).toContain('revokedkeys none');
      expect(recorded(h).revokedKeys).toBeNull();
      expect(existsSync(krl(h, 'revoked_keys.new'))).toBe(true);
      await waitListening(h.sshd, listened.get(h.name)! + 2);
      const r = await pull(h, certKey, join(work, `unrevoked-${h.name}`));
      expect(r.code, describeRun(r)).toBe(0);
    }
  }, 1_800_000);

  it('gatekeeper_ca and gatekeeper_principals emptied: the principals and the CA are uninstalled, sshd_config loses the certificate settings', async () => {
    const listened = new Map(hosts.map((h) => [h.name, listening(h.sshd)]));
    const r = await playbook(keysNow(), [], certVars('', []));
    for (const h of hosts) {
      expect(r.recap.stats[h.name], describeRun(r.run)).toMatchObject({ failures: 0, unreachable: 0 });
      expect(r.recap.stats[h.name]!.changed).toBeGreaterThan(0);
      // install created both files: they go with the last principal and the last CA.
      expect(existsSync(principalsFile(h))).toBe(false);
      expect(existsSync(caFile(h))).toBe(false);
      expect(readFileSync(h.sshd.config, 'utf8')).not.toMatch(/^(TrustedUserCAKeys|AuthorizedPrincipalsFile) /m);
      expect(effective(h)).toContain('trustedusercakeys none');
      expect(recorded(h)).toMatchObject({ principals: [], cas: [] });
      await waitListening(h.sshd, listened.get(h.name)! + 1);
      const at = h.sshd.sshdLog().length;
      const refused = await pull(h, certKey, join(work, `no-ca-${h.name}`));
      expect(refused.code).not.toBe(0);
      expect(sshdLogSince(h, at)).not.toMatch(/Accepted certificate/);
      // The plain key is untouched by all of it.
      const plain = await pull(h, backupKey, join(work, `plain-last-${h.name}`));
      expect(plain.code, describeRun(plain)).toBe(0);
    }
    const again = await playbook(keysNow(), [], certVars('', []));
    for (const h of hosts) expect(again.recap.stats[h.name], describeRun(again.run)).toMatchObject({ changed: 0, failures: 0, unreachable: 0 });
  }, 1_800_000);
});

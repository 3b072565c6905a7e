// rsnapshot and dirvish, the backup tools people already point at a server,
// pulling through a private sshd and the gate under the shipped
// system-backup policy (its root and rsync moved into the scratch directory):
// each tool's own script (Debian's package, unpacked by scripts/backup-tools.sh,
// never installed) with its own configuration in a scratch directory, run
// twice — the second run is the tool's incremental one (rsnapshot's rotation
// with hard links, dirvish's image against --link-dest) — and the gate's log
// shows each session allowed. What either tool sends is whatever it sends: a
// refusal here is a bug in the gate's rsync grammar, not in the test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../src/policy/schema.js';
import { readLog, REPO, RSYNC, SSH, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

const TOOLS = process.env.GK_BACKUP_TOOLS_DIR ?? join(REPO, 'backup-tools');
const RSNAPSHOT = join(TOOLS, 'root', 'usr', 'bin', 'rsnapshot');
const DIRVISH = join(TOOLS, 'bin', 'dirvish');
const PERL5LIB = join(TOOLS, 'root', 'usr', 'share', 'perl5');

let g: GateSetup;
let root: string;
let src: string;
let sshArgs: string[];

beforeAll(async () => {
  for (const f of [RSNAPSHOT, DIRVISH]) if (!existsSync(f)) throw new Error(`${f} is missing: run bash scripts/backup-tools.sh (npm's pretest does)`);
  g = await setupGate('gk-e2e-tools-');
  root = join(g.dir, 'server');
  src = join(root, 'srv', 'data');
  buildFixtureTree(src);
  const shipped = parse(readFileSync(join(REPO, 'policies', 'system-backup.yaml'), 'utf8')) as PolicyInput;
  expect(shipped).toMatchObject({ access: 'read-only', root: '/' });
  // Moved into the scratch directory: the tree it may read, the rsync it runs, and its log (setupGate's, never /var/log).
  const { log: _systemLog, ...rest } = shipped;
  expect(_systemLog).toBe('/var/log/gatekeeper/gatekeeper.log');
  g.usePolicy('system-backup', { ...rest, root, rsync: RSYNC });
  sshArgs = ['-F', '/dev/null', '-i', g.sshd.clientKey, '-p', String(g.sshd.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'LogLevel=ERROR'];
}, 120_000);
afterAll(async () => {
  await g?.stop();
});

const env = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/root', PERL5LIB, LC_ALL: 'C' };
function tool(argv: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync('/usr/bin/perl', argv, { encoding: 'utf8', timeout: 300_000, env: { ...env, ...extraEnv } });
  return { status: r.status, out: `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- the gate's log\n${readLog(g.log).map((x) => JSON.stringify([x.event, x.code, x.reason, x.command])).join('\n')}` };
}

/** Change one file between the two runs: the second run must carry it, and hard-link what did not change. */
function changeOneFile(text: string): void {
  writeFileSync(join(src, 'plain.txt'), text);
  const when = new Date('2022-03-04T05:06:07Z');
  utimesSync(join(src, 'plain.txt'), when, when);
}

describe('rsnapshot through the gate (shipped system-backup policy)', () => {
  it("its own conf (cmd_ssh, ssh_args -i KEY -p PORT, backup root@127.0.0.1:/srv/data/): daily.0 equals the source; a second run rotates, daily.1 keeps the first, unchanged files hard-linked; both sessions allowed", () => {
    const work = join(g.dir, 'rsnapshot');
    mkdirSync(work, { mode: 0o700 });
    const conf = join(work, 'rsnapshot.conf');
    // rsnapshot's format: TAB between fields. Debian's shipped conf is the model (cmd_cp /bin/cp, retain, backup).
    writeFileSync(
      conf,
      [
        ['config_version', '1.2'],
        ['snapshot_root', `${join(work, 'snapshots')}/`],
        ['cmd_cp', '/bin/cp'],
        ['cmd_rm', '/bin/rm'],
        ['cmd_rsync', RSYNC],
        ['cmd_ssh', SSH],
        ['ssh_args', sshArgs.join(' ')],
        // rsnapshot's default is -a, which splits hard links: -aH (its long args left at their defaults,
        // --delete --numeric-ids --relative --delete-excluded) makes the snapshot the source, links included.
        ['rsync_short_args', '-aH'],
        ['verbose', '2'],
        ['loglevel', '3'],
        ['logfile', join(work, 'rsnapshot.log')],
        ['lockfile', join(work, 'rsnapshot.pid')],
        ['retain', 'daily', '3'],
        ['backup', 'root@127.0.0.1:/srv/data/', 'server/'],
      ]
        .map((f) => `${f.join('\t')}\n`)
        .join(''),
    );
    const check = tool([RSNAPSHOT, '-c', conf, 'configtest']);
    expect(check.status, check.out).toBe(0);
    g.newRecords();

    const first = tool([RSNAPSHOT, '-c', conf, 'daily']);
    expect(first.status, first.out).toBe(0);
    // rsync --relative: the remote path /srv/data/ lands as server/srv/data/.
    const copy = (n: number) => join(work, 'snapshots', `daily.${n}`, 'server', 'srv', 'data');
    expect(diffSnapshots(snapshot(src), snapshot(copy(0)))).toEqual([]);
    const r1 = g.newRecords();
    expect(r1.map((x) => [x.event, x.code])).toEqual([['allow', 'allowed']]);
    // What rsnapshot sends (its --delete, --delete-excluded stay with the receiver): -R among the short options.
    expect(r1[0]!.command).toBe('rsync --server --sender -lHogDtprRe.iLsfxCIvu --numeric-ids . /srv/data/');

    changeOneFile('changed before rsnapshot ran again\n');
    const second = tool([RSNAPSHOT, '-c', conf, 'daily']);
    expect(second.status, second.out).toBe(0);
    expect(readdirSync(join(work, 'snapshots')).sort()).toEqual(['daily.0', 'daily.1']);
    expect(diffSnapshots(snapshot(src), snapshot(copy(0)))).toEqual([]);
    expect(statSync(join(copy(0), 'big.bin')).ino).toBe(statSync(join(copy(1), 'big.bin')).ino);
    expect(statSync(join(copy(0), 'plain.txt')).ino).not.toBe(statSync(join(copy(1), 'plain.txt')).ino);
    expect(readFileSync(join(copy(0), 'plain.txt'), 'utf8')).toBe('changed before rsnapshot ran again\n');
    expect(readFileSync(join(copy(1), 'plain.txt'), 'utf8')).not.toBe('changed before rsnapshot ran again\n');
    expect(g.newRecords().map((x) => [x.event, x.code, x.command])).toEqual([['allow', 'allowed', r1[0]!.command]]);
  }, 300_000);
});

describe('dirvish through the gate (shipped system-backup policy)', () => {
  it('a bank and vault (rsh: ssh -i KEY -p PORT …, client: root@127.0.0.1, tree: /srv/data): the --init image equals the source; a second image, against the first with --link-dest, too, unchanged files hard-linked; both sessions allowed', () => {
    const work = join(g.dir, 'dirvish');
    const confdir = join(work, 'etc-dirvish');
    const bank = join(work, 'bank');
    const vault = join(bank, 'server');
    mkdirSync(confdir, { recursive: true, mode: 0o700 });
    mkdirSync(join(vault, 'dirvish'), { recursive: true, mode: 0o700 });
    writeFileSync(join(confdir, 'master.conf'), `bank:\n\t${bank}\nimage-default: %Y%m%d-%H%M%S\n`);
    writeFileSync(join(vault, 'dirvish', 'default.conf'), [`client: root@127.0.0.1`, `tree: /srv/data`, `xdev: 1`, `index: none`, `rsh: ${SSH} ${sshArgs.join(' ')}`, ''].join('\n'));
    const run = (image: string, init: boolean) => tool([DIRVISH, '--vault', 'server', '--image', image, ...(init ? ['--init'] : [])], { DIRVISH_CONFDIR: confdir });
    g.newRecords();

    const first = run('first', true);
    expect(first.status, first.out).toBe(0);
    const tree = (image: string) => join(vault, image, 'tree');
    expect(readFileSync(join(vault, 'first', 'summary'), 'utf8')).toContain('Status: success');
    expect(diffSnapshots(snapshot(src), snapshot(tree('first')))).toEqual([]);
    const r1 = g.newRecords();
    expect(r1.map((x) => [x.event, x.code])).toEqual([['allow', 'allowed']]);
    // What dirvish sends: its -vrltH -pgo -D -x --numeric-ids (--delete, --link-dest stay with the receiver).
    expect(r1[0]!.command).toBe('rsync --server --sender -vlHogDtprxe.iLsfxCIvu --numeric-ids . /srv/data/');

    changeOneFile('changed before dirvish ran again\n');
    const second = run('second', false);
    expect(second.status, second.out).toBe(0);
    expect(readFileSync(join(vault, 'second', 'summary'), 'utf8')).toContain('Reference: first');
    expect(readFileSync(join(vault, 'second', 'summary'), 'utf8')).toContain('Status: success');
    expect(diffSnapshots(snapshot(src), snapshot(tree('second')))).toEqual([]);
    expect(statSync(join(tree('second'), 'big.bin')).ino).toBe(statSync(join(tree('first'), 'big.bin')).ino);
    expect(statSync(join(tree('second'), 'plain.txt')).ino).not.toBe(statSync(join(tree('first'), 'plain.txt')).ino);
    expect(readFileSync(join(tree('second'), 'plain.txt'), 'utf8')).toBe('changed before dirvish ran again\n');
    const r2 = g.newRecords();
    expect(r2.map((x) => [x.event, x.code, x.command])).toEqual([['allow', 'allowed', r1[0]!.command]]);
  }, 300_000);
});

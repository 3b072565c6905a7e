// The self-contained executable (npm run package) runs every command on a
// machine with no node: inside a private mount namespace where every node
// binary is masked, with PATH=/usr/bin:/bin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, REPO } from '../helpers/gate.js';
import { tempDir } from '../helpers/policy.js';
import { authorizedKeysLine, describeRun, startSshd, type Sshd } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot, type Snapshot } from '../helpers/tree.js';
import { executable, NodelessNamespace, VERSION } from './helpers.js';
import { runWatchingWorker, writeSplitLog } from '../audit/split-helpers.js';

const SEED_PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const PUSH = 'rsync --server -vlogDtprze.iLsfxCIvu --numeric-ids . /';
/** The original setup's client options (root@HOST:/ DST/). */
const BACKUP = ['-avzx', '--numeric-ids', '--delete', '--progress'];
/** Without -H, hard links arrive as separate files. */
const withoutLinks = (s: Snapshot): Snapshot => Object.fromEntries(Object.entries(s).map(([k, { links: _links, ...v }]) => [k, v]));

describe('the executable with no node on the machine', { timeout: 20 * 60_000 }, () => {
  let ns: NodelessNamespace;
  let exe: string;
  let dir: string;
  let policy: string;
  let log: string;

  beforeAll(async () => {
    exe = executable('x64');
    ns = await NodelessNamespace.start();
    dir = tempDir('gk-exe-');
    log = join(dir, 'log', 'gatekeeper.log');
    policy = join(dir, 'pull.yaml');
    for (const d of ['log', 'state', 'tree']) mkdirSync(join(dir, d), { mode: 0o700 });
    writeFileSync(policy, `rsync: /usr/bin/rsync\naccess: read-only\nroot: ${dir}/tree\nlog: ${log}\nstateDir: ${dir}/state\n`, { mode: 0o600 });
  });
  afterAll(() => {
    ns?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('through a private sshd that runs in the namespace', () => {
    let sshd: Sshd;
    let tree: string;
    let gate: string;
    let pullPolicy: string;

    beforeAll(async () => {
      sshd = await startSshd({ prefix: 'gk-exe-sshd-', wrap: ns.enter });
      tree = join(sshd.dir, 'server-tree');
      buildFixtureTree(tree);
      // The forced command runs a root-owned copy, as an installation would.
      mkdirSync(join(sshd.dir, 'bin'), { mode: 0o755 });
      gate = join(sshd.dir, 'bin', 'gatekeeper');
      copyFileSync(exe, gate);
      chmodSync(gate, 0o755);
      pullPolicy = join(sshd.dir, 'system-backup.yaml');
      writeFileSync(pullPolicy, `rsync: /usr/bin/rsync\naccess: read-only\nroot: ${tree}\nlog: ${sshd.dir}/gatekeeper.log\nstateDir: ${dir}/state\n`, { mode: 0o600 });
      sshd.setAuthorizedKeys([authorizedKeysLine(`${gate} gate --policy ${pullPolicy}`, sshd.clientPublicKey)]);
    }, 5 * 60_000);
    afterAll(async () => {
      await sshd?.stop();
    });

    const records = () => readFileSync(join(sshd.dir, 'gatekeeper.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; command: string; exec?: string });

    it("the original setup's pull arrives identical, and rsync replaced the gate (execve)", async () => {
      const dst = join(sshd.dir, 'dst');
      mkdirSync(dst);
      const r = await sshd.rsync([...BACKUP, 'root@127.0.0.1:/', `${dst}/`]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(diffSnapshots(withoutLinks(snapshot(tree)), withoutLinks(snapshot(dst)))).toEqual([]);
      expect(records().map((x) => [x.event, x.command, x.exec])).toEqual([['allow', SEED_PULL, 'execve']]);
    });

    it('refuses a push with the gatekeeper reason', async () => {
      const src = join(sshd.dir, 'push-src');
      mkdirSync(src);
      writeFileSync(join(src, 'evil'), 'x\n');
      const r = await sshd.rsync(['-av', `${src}/`, 'root@127.0.0.1:/']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/gatekeeper: refused: /);
      expect(existsSync(join(tree, 'evil'))).toBe(false);
      expect(records().at(-1)?.event).toBe('deny');
    });

    it('install into a scratch prefix deploys the executable itself and writes the forced command a real pull goes through; uninstall --all takes it out again', async () => {
      const base = join(sshd.dir, 'scratch');
      const prefix = join(base, 'prefix');
      const configDir = join(base, 'etc-gatekeeper');
      mkdirSync(join(base, 'logrotate.d'), { recursive: true });
      writeFileSync(join(base, 'backup.pub'), `${sshd.clientPublicKey}\n`);
      const akBefore = readFileSync(sshd.authorizedKeys);
      const paths = ['--sshd-config', sshd.config, '--authorized-keys', sshd.authorizedKeys, '--prefix', prefix, '--config-dir', configDir, '--no-reload'];
      const inst = ns.run(exe, ['install', '--policy', pullPolicy, '--key', join(base, 'backup.pub'), ...paths, '--logrotate-dir', join(base, 'logrotate.d'), '--host', 'server']);
      expect(inst.status, inst.stderr + inst.stdout).toBe(0);
      // The executable itself, root-owned 0755; no launcher script, no bundle, no node.
      const deployed = join(prefix, 'bin', 'gatekeeper');
      expect(readFileSync(deployed).equals(readFileSync(exe))).toBe(true);
      expect(statSync(deployed)).toMatchObject({ uid: 0, gid: 0, mode: 0o100755 });
      expect(existsSync(join(prefix, 'lib'))).toBe(false);
      const line = readFileSync(sshd.authorizedKeys, 'utf8');
      expect(line).toContain(`command="${deployed} gate --policy system-backup --policy-dir ${configDir}/policies"`);
      const dst = join(sshd.dir, 'dst-installed');
      mkdirSync(dst);
      const before = records().length;
      const r = await sshd.rsync([...BACKUP, 'root@127.0.0.1:/', `${dst}/`]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(diffSnapshots(withoutLinks(snapshot(tree)), withoutLinks(snapshot(dst)))).toEqual([]);
      expect(records().slice(before).map((x) => x.event)).toEqual(['allow']);
      // Run again: nothing to change.
      const again = ns.run(exe, ['install', '--policy', pullPolicy, '--key', join(base, 'backup.pub'), ...paths, '--logrotate-dir', join(base, 'logrotate.d'), '--host', 'server']);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^nothing to change/);
      const un = ns.run(deployed, ['uninstall', '--all', ...paths]);
      expect(un.status, un.stderr + un.stdout).toBe(0);
      expect(existsSync(deployed)).toBe(false);
      expect(existsSync(prefix), 'the directories install made').toBe(false);
      expect(readFileSync(sshd.authorizedKeys).equals(akBefore)).toBe(true);
    });
  });

  it('masks every node: none runs inside the namespace', () => {
    expect(ns.masked).toEqual(expect.arrayContaining(['/usr/bin/node', realpathSync(NODE)]));
    for (const node of [...ns.masked, 'node']) {
      const r = ns.run('/usr/bin/env', [node, '--version']);
      expect(r.status, `${node} still runs: ${r.stdout}`).not.toBe(0);
    }
  });

  it("--version, --help, and every command's help", () => {
    expect(ns.run(exe, ['--version']).stdout.trim()).toBe(VERSION);
    const help = ns.run(exe, ['--help']);
    expect(help.status).toBe(0);
    for (const cmd of ['gate', 'check', 'policy', 'audit', 'install', 'uninstall', 'doctor']) {
      expect(help.stdout).toContain(`${cmd} `);
      const r = ns.run(exe, [cmd, '--help']);
      expect(r.status, `${cmd} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: gatekeeper ${cmd}`);
    }
  });

  it('policy validate and check read the shipped and a scratch policy', () => {
    const v = ns.run(exe, ['policy', 'validate', join(REPO, 'policies', 'system-backup.yaml'), policy]);
    expect(v.status, v.stderr).toBe(0);
    const allowed = ns.run(exe, ['check', '--policy', policy, '--', SEED_PULL]);
    expect(allowed.status, allowed.stderr + allowed.stdout).toBe(0);
    const refused = ns.run(exe, ['check', '--json', '--policy', policy, '--', PUSH]);
    expect(refused.status).toBe(77);
    expect((JSON.parse(refused.stdout) as { decision: string }).decision).toBe('deny');
  });

  it('the gate refuses a push with 77, a reason, nothing on stdout, and logs it; audit reads the log', () => {
    const r = ns.run(exe, ['gate', '--policy', policy], { env: { SSH_ORIGINAL_COMMAND: PUSH, SSH_CONNECTION: '127.0.0.1 50000 127.0.0.1 22' } });
    expect(r.status, r.stderr).toBe(77);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^gatekeeper: refused: /);
    const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(records.map((x) => x.event)).toEqual(['deny']);
    const a = ns.run(exe, ['audit', '--log', log, '--json']);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('audit --metrics and --check run from the executable (the monitoring views are in its one CLI file)', () => {
    const m = ns.run(exe, ['audit', '--log', log, '--metrics']);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^gatekeeper_refused_sessions_by_code\{host="[^"]*",policy="[^"]*\/pull\.yaml",client="127\.0\.0\.1",code="access"\} 1$/m);
    const c = ns.run(exe, ['audit', '--log', log, '--check']);
    expect(c.status).toBe(1);
    expect(c.stdout).toMatch(/^GATEKEEPER WARNING - 127\.0\.0\.1 \(policy [^)]*\/pull\.yaml, host [^)]+\): 1 refused in 24h \(access ×1\) \| /);
  });

  /** audit over one big file in the executable: a worker thread shows, and the answer is the one `taskset -c 0` (one CPU, no worker) gives. */
  async function splitAgrees(name: string, view: string[], shows: string): Promise<void> {
    const big = join(dir, name);
    writeSplitLog(big);
    const args = ['audit', '--log', big, ...view, '--now', '2026-12-01T00:00:00Z', '--policy-dir', join(dir, 'none')];
    const env = { PATH: '/usr/bin:/bin' };
    const two = await runWatchingWorker(ns.enter[0]!, [...ns.enter.slice(1), exe, ...args], env);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stderr).toBe('');
    expect(two.worker).toBe(true);
    const one = await runWatchingWorker(ns.enter[0]!, [...ns.enter.slice(1), '/usr/bin/taskset', '-c', '0', exe, ...args], env);
    expect(one.status, one.stderr).toBe(0);
    expect(one.worker).toBe(false);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stdout).toContain(shows);
    rmSync(big);
  }

  it('audit --summary over one big file reads its second half in a worker thread (the carried CLI, evaluated), as one CPU would answer', async () => {
    await splitAgrees('big.log', ['--summary'], 'srv2');
  });

  it('audit --html over one big file feeds the report the records a worker thread parsed (the carried CLI, evaluated), as one CPU would write it', async () => {
    await splitAgrees('big-report.log', ['--html', '-'], 'data-host="srv2"');
  });

  it('doctor names the embedded Node, process.execve and glibc', () => {
    const r = ns.run(exe, ['doctor', '--runtime']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { executable: boolean; v: string; execve: boolean; glibc: string };
    expect(info).toMatchObject({ executable: true, execve: true });
    expect(info.v).toBe(npmNodeVersion());
    expect(info.glibc).toMatch(/^2\.\d+$/);
    const d = ns.run(exe, ['doctor', '--json', '--authorized-keys', join(dir, 'none')]);
    const node = (JSON.parse(d.stdout) as { check: string; status: string; detail: string }[]).find((c) => c.check === 'node');
    expect(node?.status).toBe('ok');
    expect(node?.detail).toContain(`the gatekeeper executable, embedded Node ${info.v}`);
  });
});

/** The version of the Node the x64 executable was built from (read outside the namespace). */
function npmNodeVersion(): string {
  return `v${(JSON.parse(readFileSync(join(REPO, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string }).version}`;
}

// The self-contained executable (npm run package) runs every command on a
// machine with no node: inside a private mount namespace where every node
// binary is masked, with PATH=/usr/bin:/bin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, REPO } from '../helpers/gate.js';
import { tempDir } from '../helpers/policy.js';
import { executable, NodelessNamespace, VERSION } from './helpers.js';

const SEED_PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const PUSH = 'rsync --server -vlogDtprze.iLsfxCIvu --numeric-ids . /';

describe('the executable with no node on the machine', () => {
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
    expect(c.stdout).toMatch(/^GATEKEEPER WARNING - 127\.0\.0\.1 \(policy [^)]*\/pull\.yaml\): 1 refused in 24h \(access ×1\) \| /);
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

// audit on logs written by the real gate: decisions, and the transfer outcome
// of real rsync runs through the gate (execve: joined from rsync's own
// --log-file by pid; spawn fallback: the gate's exit record).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writePolicy } from '../helpers/policy.js';
import { audit, CLI, jsonLines, NODE, NODE20, runGate } from './helpers.js';

const dir = tempDir('gk-audit-gate-');
const policies = join(dir, 'policies');
const data = join(dir, 'data');
const log = join(dir, 'gatekeeper.log');
const transferLog = join(dir, 'rsync-transfer.log');

beforeAll(() => {
  mkdirSync(policies, { mode: 0o700 });
  mkdirSync(join(data, 'sub'), { recursive: true });
  writeFileSync(join(data, 'a.txt'), 'hello\n');
  writeFileSync(join(data, 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
  writePolicy(policies, { root: data, log, transferLog }, 'backup.yaml');
  writePolicy(policies, { root: data, log, access: 'read-write' }, 'rw.yaml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

describe('decisions the gate logged', () => {
  const cases = [
    { command: PULL, client: '198.51.100.7', status: 0, event: 'allow' },
    { command: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --log-file=/tmp/x . /', client: '203.0.113.9', status: 77, event: 'deny', code: 'always-refused' },
    { command: 'rsync --server -vlogDtprxze.iLsfxCIvu . /', client: '203.0.113.9', status: 77, event: 'deny', code: 'access' },
    { command: null, client: '203.0.113.9', status: 77, event: 'describe', code: 'welcome' },
    { command: 'cat /etc/shadow', client: '203.0.113.9', status: 77, event: 'deny' },
  ];
  let sessions: string[] = [];
  let lines: Record<string, unknown>[] = [];

  beforeAll(() => {
    const before = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
    for (const c of cases) {
      // The pull's rsync gets no client on stdin and fails fast; the decision is what matters here.
      const r = runGate(policies, 'backup', c.command, { client: c.client });
      if (c.status === 77) expect(r.status).toBe(77);
    }
    lines = readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    sessions = [...new Set(lines.map((l) => l.session as string))];
  });

  it('audit --json shows every session the gate logged, with its decision', () => {
    const r = audit(['--log', log, '--json', '--decision', 'allow,deny,describe']);
    expect(r.stderr).toBe('');
    const got = jsonLines(r.stdout).filter((x) => sessions.includes(x.session as string) && x.event !== 'exit');
    expect(got.map((x) => x.event)).toEqual(cases.map((c) => c.event));
    for (const [i, c] of cases.entries()) {
      expect(got[i]).toMatchObject({ command: c.command, client: { addr: c.client } });
      if (c.code) expect(got[i]!.code).toBe(c.code);
    }
  });

  it('the table names the refusal, --summary counts it per client', () => {
    const table = audit(['--log', log, '--client', '203.0.113.9']).stdout;
    expect(table).toMatch(/deny\s+pull \/ .*--log-file=\/tmp\/x\s+option --log-file is always refused/);
    expect(table).toMatch(/describe\s+\(shell\)\s+no command \(a shell request\): welcomed the key holder/);
    const groups = jsonLines(audit(['--log', log, '--summary', '--json', '--client', '203.0.113.9']).stdout);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ policy: 'backup', client: '203.0.113.9', allowed: 0 });
    expect(groups[0]!.refused).toBeGreaterThanOrEqual(3);
  });
});

/**
 * A real rsync client whose "ssh" runs the gate as sshd would: the remote
 * command becomes SSH_ORIGINAL_COMMAND. `gateNode` picks Node 24 (execve) or
 * Node 20 (spawn fallback).
 */
function pullThroughGate(gateNode: string, dest: string, policy = 'backup'): number | null {
  const rsh = join(dir, `rsh-${policy}-${gateNode.replace(/\W/g, '')}.mjs`);
  writeFileSync(
    rsh,
    `#!${NODE}
import { spawnSync } from 'node:child_process';
const args = process.argv.slice(2);
while (args[0] === '-l') args.splice(0, 2);
args.shift(); // host
const r = spawnSync(${JSON.stringify(gateNode)}, [${JSON.stringify(CLI)}, 'gate', '--policy', ${JSON.stringify(policy)}, '--policy-dir', ${JSON.stringify(policies)}], {
  stdio: 'inherit',
  env: { PATH: '/usr/bin:/bin', USER: 'root', SSH_CONNECTION: '192.0.2.50 50001 192.0.2.1 22', SSH_ORIGINAL_COMMAND: args.join(' ') },
});
process.exit(r.status ?? 1);
`,
    { mode: 0o700 },
  );
  const r = spawnSync('/usr/bin/rsync', ['-a', '-e', rsh, 'host:/', `${dest}/`], { encoding: 'utf8' });
  return r.status;
}

describe('transfer outcome', () => {
  it('execve: rsync keeps the gate\'s pid; audit joins its --log-file and shows bytes and exit 0', () => {
    const status = pullThroughGate(NODE, join(dir, 'dest-execve'));
    expect(status).toBe(0);
    expect(readFileSync(join(dir, 'dest-execve', 'a.txt'), 'utf8')).toBe('hello\n');
    const records = jsonLines(audit(['--log', log, '--transfer-log', transferLog, '--json', '--client', '192.0.2.50']).stdout);
    const allow = records.find((x) => x.event === 'allow' && x.exec === 'execve');
    expect(allow).toBeDefined();
    const exit = records.find((x) => x.event === 'exit' && x.session === allow!.session);
    expect(exit).toMatchObject({ status: 0, pid: allow!.pid, code: 'transfer-ok' });
    const transfer = exit!.transfer as { sent: number; received: number };
    expect(transfer.sent).toBeGreaterThan(70_000);
    expect(transfer.received).toBeGreaterThan(0);
    // the summary's last success is this finished transfer
    const groups = jsonLines(audit(['--log', log, '--transfer-log', transferLog, '--summary', '--json', '--client', '192.0.2.50']).stdout);
    expect(groups[0]).toMatchObject({ outcomeKnown: true, lastSuccess: { session: allow!.session, sent: transfer.sent } });
    // the table's exit row
    expect(audit(['--log', log, '--transfer-log', transferLog, '--client', '192.0.2.50']).stdout).toMatch(/exit 0\s+sent \d+\.\d KiB, received \d+ B/);
  });

  it('spawn fallback (Node 20): the gate\'s own exit record carries rsync\'s status', () => {
    const status = pullThroughGate(NODE20, join(dir, 'dest-spawn'), 'rw');
    expect(status).toBe(0);
    const records = jsonLines(audit(['--log', log, '--json', '--policy', 'rw']).stdout);
    const allow = records.find((x) => x.event === 'allow' && x.exec === 'spawn');
    expect(allow).toBeDefined();
    expect(records.find((x) => x.event === 'exit' && x.session === allow!.session)).toMatchObject({ status: 0, exec: 'spawn' });
    const groups = jsonLines(audit(['--log', log, '--summary', '--json', '--policy', 'rw']).stdout);
    expect(groups[0]).toMatchObject({ outcomeKnown: true, succeeded: 1, lastSuccess: { session: allow!.session } });
  });

  it('spawn fallback (Node 20): rsync\'s --log-file lines, under its own pid, give the exit record its bytes', () => {
    const status = pullThroughGate(NODE20, join(dir, 'dest-spawn-bytes'));
    expect(status).toBe(0);
    const records = jsonLines(audit(['--log', log, '--transfer-log', transferLog, '--json', '--policy', 'backup']).stdout);
    const allow = records.find((x) => x.event === 'allow' && x.exec === 'spawn');
    expect(allow).toBeDefined();
    const exits = records.filter((x) => x.event === 'exit' && x.session === allow!.session);
    expect(exits).toHaveLength(1);
    const exit = exits[0]!;
    expect(exit).toMatchObject({ status: 0, exec: 'spawn', pid: allow!.pid });
    expect(exit.rsyncPid).not.toBe(allow!.pid);
    const transfer = exit.transfer as { sent: number; received: number };
    expect(transfer.sent).toBeGreaterThan(70_000);
    expect(transfer.received).toBeGreaterThan(0);
  });
});

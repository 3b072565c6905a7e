// A backup tool's questions about a remote source, through a private sshd and
// the gate, as rsync-time-backup asks them before it pulls: `test -e 'PATH'`
// (does the source exist?) and `df -T 'PATH'` (which file system is it on?),
// then the pull itself and an
// incremental pull with --link-dest. The tool's own script is not part of
// this repository. It passes each through `eval "$SSH_CMD '…'"`, so what
// reaches sshd is `test -e /home/` and `df -T /home`; the quoted spelling is
// read as sh reads it (docs/gate.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, run, RSYNC, SSH, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

describe('a backup tool asks about its source, then pulls, through the gate', () => {
  let g: GateSetup;
  let root: string;
  let src: string;
  let dest: string;
  let sshArgs: string[];

  beforeAll(async () => {
    g = await setupGate('gk-e2e-questions-');
    root = join(g.dir, 'server');
    src = join(root, 'home');
    buildFixtureTree(src);
    g.usePolicy('questions', { access: 'read-only', root });
    dest = join(g.dir, 'backups');
    mkdirSync(dest, { mode: 0o700 });
    sshArgs = ['-F', '/dev/null', '-p', String(g.sshd.port), '-i', g.sshd.clientKey, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'LogLevel=ERROR'];
  });
  afterAll(async () => {
    await g?.stop();
  });

  const ask = (command: string) => run(SSH, [...sshArgs, 'root@127.0.0.1', command], { timeoutMs: 60_000 });
  const pull = (into: string, extra: string[] = []) =>
    run(RSYNC, ['-D', '--numeric-ids', '--links', '--hard-links', '--one-file-system', '--archive', '--itemize-changes', ...extra, '-e', `${SSH} ${sshArgs.join(' ')}`, 'root@127.0.0.1:/home/', into], { timeoutMs: 120_000 });

  it('test -e /home/ is answered by the gate: 0, nothing on stdout; a missing path 1; quoted as sh reads it', async () => {
    const there = await ask('test -e /home/');
    expect(there.code, describeRun(there)).toBe(0);
    expect(there.stdout).toBe('');
    const missing = await ask("test -e '/nothing-here/'");
    expect(missing.code, describeRun(missing)).toBe(1);
    expect(missing.stdout).toBe('');
    expect(g.newRecords().map((x) => [x.event, x.code, x.command, x.status])).toEqual([
      ['answer', 'test-e', 'test -e /home/', 0],
      ['answer', 'test-e', "test -e '/nothing-here/'", 1],
    ]);
  });

  it("df -T /home prints GNU df's table for the mount that holds the source", async () => {
    const r = await ask('df -T /home');
    expect(r.code, describeRun(r)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Filesystem\s+Type\s+1K-blocks\s+Used\s+Available\s+Use%\s+Mounted on$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.trim().split(/\s+/)).toHaveLength(7);
    expect(g.newRecords().map((x) => [x.event, x.code])).toEqual([['answer', 'df-T']]);
  });

  it('then the pull: the tree arrives identical; a second pull with --link-dest hard-links what did not change', async () => {
    const first = join(dest, 'first');
    const r1 = await pull(first);
    expect(r1.code, describeRun(r1)).toBe(0);
    expect(diffSnapshots(snapshot(src), snapshot(first))).toEqual([]);
    writeFileSync(join(src, 'plain.txt'), 'changed since the first backup\n');
    const when = new Date('2021-02-03T04:05:06Z');
    utimesSync(join(src, 'plain.txt'), when, when);
    const second = join(dest, 'second');
    const r2 = await pull(second, [`--link-dest=${first}`]);
    expect(r2.code, describeRun(r2)).toBe(0);
    expect(diffSnapshots(snapshot(src), snapshot(second))).toEqual([]);
    expect(statSync(join(second, 'big.bin')).ino).toBe(statSync(join(first, 'big.bin')).ino);
    expect(statSync(join(second, 'plain.txt')).ino).not.toBe(statSync(join(first, 'plain.txt')).ino);
    expect(readFileSync(join(second, 'plain.txt'), 'utf8')).toBe('changed since the first backup\n');
    expect(g.newRecords().map((x) => [x.event, x.code])).toEqual([
      ['allow', 'allowed'],
      ['allow', 'allowed'],
    ]);
  });

  it("a source outside the policy root: test -e is refused (77, the reason on stderr)", async () => {
    const r = await ask("test -e '/home/../../'");
    expect(r.code, describeRun(r)).toBe(77);
    expect(r.stderr).toContain('gatekeeper: refused: ".." is refused in paths');
    expect(g.newRecords().map((x) => [x.event, x.code, x.status])).toEqual([['deny', 'path-outside-root', 77]]);
  });
});

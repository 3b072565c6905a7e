// Scenario 7: both ways the gate starts rsync. With process.execve (Node ≥
// 22.15) rsync replaces the gate in the same process: same pid, nothing of the
// gate resident. With the spawn fallback (the system Node 20 here) rsync is a
// child, the transfer works, and rsync's exit status reaches the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, run, setupGate, NODE20, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

/** The server arguments of the seed's pull; with no client on stdin, rsync exits with its protocol error. */
const SERVER_PULL = ['rsync', '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '.', '/'];

interface WrapperRun {
  pid: number;
  ppid: number;
  parentComm: string;
}

describe('scenario 7: both exec paths', () => {
  let g: GateSetup;
  let tree: string;
  let wrapper: string;
  let wrapperLog: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-exec-');
    tree = join(g.dir, 'server-tree');
    buildFixtureTree(tree);
    const bin = join(g.dir, 'rsync-bin');
    mkdirSync(bin, { mode: 0o700 });
    wrapper = join(bin, 'rsync');
    wrapperLog = join(bin, 'ran.log');
    // Records its own pid, its parent's pid and the parent's name, then becomes rsync (same pid).
    writeFileSync(
      wrapper,
      `#!/bin/sh\nread -r comm < /proc/$PPID/comm\nprintf '%s %s %s\\n' "$$" "$PPID" "$comm" >> ${wrapperLog}\nexec /usr/bin/rsync "$@"\n`,
      { mode: 0o755 },
    );
  });
  afterAll(async () => {
    await g?.stop();
  });

  const wrapperRuns = (): WrapperRun[] =>
    existsSync(wrapperLog)
      ? readFileSync(wrapperLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => {
            const [pid, ppid, parentComm] = l.split(' ');
            return { pid: Number(pid), ppid: Number(ppid), parentComm: parentComm ?? '' };
          })
      : [];

  it('execve: rsync runs in the gate own process (same pid, no node parent)', async () => {
    const probe = await run(process.execPath, ['-p', 'typeof process.execve']);
    expect(probe.stdout.trim(), `${process.execPath} must have process.execve (Node >= 22.15)`).toBe('function');
    g.usePolicy('execve', { access: 'read-only', root: tree, rsync: wrapper }, process.execPath);
    rmSync(wrapperLog, { force: true });
    const dst = join(g.dir, 'dst-execve');
    mkdirSync(dst);
    const r = await g.sshd.rsync(['-avzx', '-H', '--numeric-ids', 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(dst))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['allow']);
    expect(records[0]!.exec).toBe('execve');
    const [ran] = wrapperRuns();
    expect(ran!.pid).toBe(records[0]!.pid);
    expect(ran!.parentComm).not.toBe('node');
  });

  it('spawn fallback (system Node 20): the transfer works, rsync is the gate child', async () => {
    const probe = await run(NODE20, ['-p', 'typeof process.execve']);
    expect(probe.stdout.trim(), `${NODE20} is expected to lack process.execve`).toBe('undefined');
    g.usePolicy('spawn', { access: 'read-only', root: tree, rsync: wrapper }, NODE20);
    rmSync(wrapperLog, { force: true });
    const dst = join(g.dir, 'dst-spawn');
    mkdirSync(dst);
    const r = await g.sshd.rsync(['-avzx', '-H', '--numeric-ids', 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(dst))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['allow', 'exit']);
    expect(records[0]!.exec).toBe('spawn');
    expect(records[1]!.status).toBe(0);
    expect(records[1]!.session).toBe(records[0]!.session);
    const [ran] = wrapperRuns();
    expect(ran!.ppid).toBe(records[0]!.pid);
    expect(ran!.pid).not.toBe(records[0]!.pid);
    expect(ran!.parentComm).toBe('node');
  });

  it.each([
    ['spawn', NODE20],
    ['execve', process.execPath],
  ] as const)("rsync's own exit status reaches the client (%s)", async (path, node) => {
    g.usePolicy(`status-${path}`, { access: 'read-only', root: tree }, node);
    // Straight to the server side with an empty stdin: rsync gives up with its protocol-stream error (12).
    const r = await g.sshd.ssh(SERVER_PULL);
    expect(r.code, describeRun(r)).toBe(12);
    expect(r.stderr).toMatch(/rsync error: error in rsync protocol data stream \(code 12\)/);
    const records = g.newRecords();
    expect(records[0]!.event).toBe('allow');
    if (path === 'spawn') expect(records.map((x) => [x.event, x.status])).toEqual([['allow', undefined], ['exit', 12]]);
    else expect(records).toHaveLength(1);
  });
});

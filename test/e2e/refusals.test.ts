// Scenario 5: refusals as the client sees them. Each one exits non-zero, the
// client's stderr carries the gatekeeper's reason, nothing is created or
// changed on the server, and the log has a deny record for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, setupGate, type GateSetup, type RunResult } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

interface Case {
  name: string;
  run(g: GateSetup, dst: string): Promise<RunResult>;
  /** SSH_ORIGINAL_COMMAND as the deny record must show it (a function: paths are per run). */
  command(g: GateSetup): string | null;
  /** ssh hands the remote status to the client; rsync clients report their own. */
  exit?: number;
}

const marker = (g: GateSetup) => join(g.dir, 'pwned');
const evilLog = (g: GateSetup) => join(g.dir, 'evil.log');

const CASES: Case[] = [
  {
    name: 'a push to a read-only policy',
    run: (g) => g.sshd.rsync(['-av', '--delete', `${join(g.dir, 'client-src')}/`, 'root@127.0.0.1:/']),
    command: () => 'rsync --server -vlogDtpre.iLsfxCIvu --delete . /',
  },
  {
    name: "ssh root@host 'id'",
    run: (g) => g.sshd.ssh(['id']),
    command: () => 'id',
    exit: 77,
  },
  {
    name: 'ssh root@host with no command (a shell), in a policy with describe: false',
    run: (g) => g.sshd.ssh([]),
    command: () => null,
    exit: 77,
  },
  {
    name: "--rsync-path='rsync; touch …' (shell injection)",
    run: (g, dst) => g.sshd.rsync(['-av', `--rsync-path=rsync; touch ${marker(g)}`, 'root@127.0.0.1:/', `${dst}/`]),
    command: (g) => `rsync; touch ${marker(g)} --server --sender -vlogDtpre.iLsfxCIvu . /`,
  },
  {
    name: '-M--log-file=… (a server option the client must not choose)',
    run: (g, dst) => g.sshd.rsync(['-av', `-M--log-file=${evilLog(g)}`, 'root@127.0.0.1:/', `${dst}/`]),
    command: (g) => `rsync --server --sender -vlogDtpre.iLsfxCIvu --log-file=${evilLog(g)} . /`,
  },
  {
    name: '-s (secluded args: the paths would bypass the check)',
    run: (g, dst) => g.sshd.rsync(['-av', '-s', 'root@127.0.0.1:/', `${dst}/`]),
    command: () => 'rsync --server --sender -svlogDtpre.iLsfxCIvu',
  },
];

describe('scenario 5: refusals as the client sees them', () => {
  let g: GateSetup;
  let tree: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-refuse-');
    tree = join(g.dir, 'server-tree');
    buildFixtureTree(tree);
    mkdirSync(join(g.dir, 'client-src'));
    writeFileSync(join(g.dir, 'client-src', 'intruder.txt'), 'must not arrive\n');
    // describe: false, so that a session without a command is refused like any other (test/e2e/describe.test.ts: the welcome).
    g.usePolicy('readonly', { access: 'read-only', root: tree, describe: false });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const dst = join(g.dir, `dst-${i}`);
    mkdirSync(dst);
    const before = snapshot(tree, { identity: true });
    const topBefore = readdirSync(g.dir).sort();
    g.newRecords();

    const r = await c.run(g, dst);

    expect(r.code, describeRun(r)).not.toBe(0);
    if (c.exit !== undefined) expect(r.code, describeRun(r)).toBe(c.exit);
    expect(r.stdout).toBe('');
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['deny']);
    const deny = records[0]!;
    expect(deny.command).toBe(c.command(g));
    expect(deny.reason.length).toBeGreaterThan(0);
    // The client sees the gatekeeper's reason, prefixed, as the log records it.
    expect(r.stderr).toContain(`gatekeeper: refused: ${deny.reason}`);
    // Nothing created or changed on the server.
    expect(diffSnapshots(before, snapshot(tree, { identity: true }))).toEqual([]);
    expect(readdirSync(g.dir).sort()).toEqual(topBefore);
    expect(existsSync(marker(g))).toBe(false);
    expect(existsSync(evilLog(g))).toBe(false);
    expect(readdirSync(dst)).toEqual([]);
  });
});

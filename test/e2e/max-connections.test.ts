// Scenario 6: maxConnections 1, as the original setup's `max connections = 1`
// did for the daemon: a second concurrent pull is refused "busy" at once (no
// hang), and a session killed with -9 does not keep its slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, setupGate, type GateRecord, type GateSetup } from '../helpers/sshd.js';
import { backdate, diffSnapshots, pseudoRandomBytes, snapshot } from '../helpers/tree.js';
import { waitUntil } from '../helpers/wait.js';


/** Poll until the log has a record matching `pred` (no deadline of its own: see test/helpers/wait.ts). */
async function waitForRecord(g: GateSetup, pred: (r: GateRecord) => boolean, seen: GateRecord[]): Promise<GateRecord> {
  let hit: GateRecord | undefined;
  await waitUntil(() => {
    seen.push(...g.newRecords());
    hit = seen.find(pred);
    return hit !== undefined;
  });
  return hit!;
}

async function waitGone(pid: number): Promise<void> {
  await waitUntil(() => !existsSync(`/proc/${pid}`));
}

describe('scenario 6: maxConnections 1', () => {
  let g: GateSetup;
  let root: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-maxconn-');
    root = join(g.dir, 'slow-tree');
    mkdirSync(root);
    // Incompressible, so -z cannot shrink it: with --bwlimit it keeps the first session busy for a while.
    writeFileSync(join(root, 'big.bin'), pseudoRandomBytes(6 * 1024 * 1024, 3));
    backdate(root);
    g.usePolicy('single', { access: 'read-only', root, maxConnections: 1, options: { allow: ['--bwlimit'] } });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('the second pull is refused busy while the first runs; after kill -9 of the first, the next is admitted', async () => {
    const dst1 = join(g.dir, 'dst1');
    const dst2 = join(g.dir, 'dst2');
    const dst3 = join(g.dir, 'dst3');
    for (const d of [dst1, dst2, dst3]) mkdirSync(d);
    const seen: GateRecord[] = [];

    const first = g.sshd.spawnRsync(['-av', '--bwlimit=256', 'root@127.0.0.1:/', `${dst1}/`], { timeoutMs: 60_000 });
    try {
      const admitted = await waitForRecord(g, (r) => r.event === 'allow', seen);
      // The first client stopped: its session holds the slot for as long as
      // the test needs, however slowly the second one runs (the bandwidth
      // limit alone made "the first is still going" a race with the load).
      process.kill(first.child.pid!, 'SIGSTOP');

      // If the gate waited for the slot instead of refusing, this run would never end (the first never does).
      const second = await g.sshd.rsync(['-av', 'root@127.0.0.1:/', `${dst2}/`], { timeoutMs: 60_000 });
      expect(second.timedOut, describeRun(second)).toBe(false);
      expect(second.code, describeRun(second)).not.toBe(0);
      expect(second.stderr, describeRun(second)).toMatch(/^gatekeeper: .*busy/im);
      expect(readdirSync(dst2)).toEqual([]);
      const busy = await waitForRecord(g, (r) => r.event === 'deny', seen);
      expect(busy.code).toBe('busy');
      // The first transfer is still going.
      expect(first.child.exitCode, 'the first transfer ended too early: make the file bigger or the limit lower').toBeNull();

      // kill -9 the session that holds the slot (with execve, the gate's pid is rsync's).
      process.kill(admitted.pid, 'SIGKILL');
      process.kill(first.child.pid!, 'SIGCONT');
      const firstResult = await first.done;
      expect(firstResult.code, describeRun(firstResult)).not.toBe(0);
      // The client can see the connection drop before sshd has reaped the killed process;
      // "killed" means gone from the process table, so wait for that.
      await waitGone(admitted.pid);
    } finally {
      first.child.kill('SIGKILL');
      await first.done.catch(() => undefined);
    }

    const third = await g.sshd.rsync(['-av', 'root@127.0.0.1:/', `${dst3}/`], { timeoutMs: 30_000 });
    expect(third.code, describeRun(third)).toBe(0);
    expect(diffSnapshots(snapshot(root), snapshot(dst3))).toEqual([]);
    seen.push(...g.newRecords());
    expect(seen.map((r) => r.event), JSON.stringify(seen)).toEqual(['allow', 'deny', 'allow']);
  });
});

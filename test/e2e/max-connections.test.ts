// Scenario 6: maxConnections 1, as the original setup's `max connections = 1`
// did for the daemon: a second concurrent pull is refused "busy" at once (no
// hang), and a session killed with -9 does not keep its slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, setupGate, type GateRecord, type GateSetup } from '../helpers/sshd.js';
import { backdate, diffSnapshots, pseudoRandomBytes, snapshot } from '../helpers/tree.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll (bounded) until the log has a record matching `pred`. */
async function waitForRecord(g: GateSetup, pred: (r: GateRecord) => boolean, seen: GateRecord[]): Promise<GateRecord> {
  for (let i = 0; i < 200; i++) {
    seen.push(...g.newRecords());
    const hit = seen.find(pred);
    if (hit) return hit;
    await sleep(50);
  }
  throw new Error(`no matching log record after 10 s; saw ${JSON.stringify(seen)}`);
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await sleep(50);
  expect(existsSync(`/proc/${pid}`), `pid ${pid} still in the process table after 10 s`).toBe(false);
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

      // Bounded: if the gate waited for the slot instead of refusing, this run would time out and fail.
      const second = await g.sshd.rsync(['-av', 'root@127.0.0.1:/', `${dst2}/`], { timeoutMs: 15_000 });
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
      const firstResult = await first.done;
      expect(firstResult.code, describeRun(firstResult)).not.toBe(0);
      // The client can see the connection drop before sshd has reaped the killed process;
      // "killed" means gone from the process table, so wait (bounded) for that.
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

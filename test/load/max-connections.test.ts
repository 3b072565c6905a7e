// maxConnections under load: many gates at once for a policy with N slots.
// The target is a recorder that notes when it starts and ends (from inside
// the process that holds the slot: with execve it *is* the gate's pid), so
// the number of targets running at the same moment can be computed exactly
// afterwards: it never exceeds N. Every gate either ran or was refused
// "busy". Then a session killed with -9 leaves no stale slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEKEEPER, makeLab, pool, SSH_CONNECTION, NODE20, type Lab } from '../security/lab.js';

const SLOTS = 3;
const GATES = Number(process.env.GK_LOAD_CONNECTIONS ?? 40);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let lab: Lab;
let spans: string;

beforeAll(() => {
  lab = makeLab('gk-load-maxconn-');
  spans = join(lab.dir, 'spans');
  // "start"/"end" lines with a nanosecond clock, appended (one small write each).
  const holder = join(lab.dir, 'bin', 'holder');
  writeFileSync(
    holder,
    ['#!/bin/sh', `echo "start $(date +%s%N) $$" >> '${spans}'`, 'sleep 0.3', `echo "end $(date +%s%N) $$" >> '${spans}'`, 'exit 0', ''].join('\n'),
    { mode: 0o755 },
  );
  lab.writePolicy('slots', { rsync: holder, access: 'read-only', root: lab.root, maxConnections: SLOTS });
  lab.writePolicy('one', { rsync: holder, access: 'read-only', root: lab.root, maxConnections: 1 });
});
afterAll(() => lab?.cleanup());

/** The largest number of [start, end] spans open at one instant. */
function maxOverlap(text: string): { max: number; spans: number } {
  const events = text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .map(([kind, t]) => ({ t: BigInt(t!), d: kind === 'start' ? 1 : -1 }));
  // Ends sort before starts at the same instant: touching spans do not overlap.
  events.sort((a, b) => (a.t === b.t ? a.d - b.d : a.t < b.t ? -1 : 1));
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.d;
    max = Math.max(max, open);
  }
  return { max, spans: events.filter((e) => e.d === 1).length };
}

const COMMAND = 'rsync --server --sender -vlogDtpre.iLsf . data/';

describe.each([
  ['execve (Node 24)', process.execPath],
  ['spawn fallback (Node 20)', NODE20],
])('maxConnections %s', (_name, node) => {
  it(`${GATES} gates at once never run more than ${SLOTS} targets together`, { timeout: 120_000 }, async () => {
    expect(existsSync(node), `${node} is missing: run bash scripts/runtimes.sh`).toBe(true);
    writeFileSync(spans, '');
    const policy = join(lab.policyDir, 'slots.yaml');
    // All started together; a refused gate is retried a few times, so slots keep being contended.
    const results = await pool(Array.from({ length: GATES }, (_, i) => i), GATES, async () => {
      for (let attempt = 0; ; attempt++) {
        const r = await lab.run({ command: COMMAND, policy, node });
        if (r.code !== 77 || attempt === 3) return r;
        await sleep(50);
      }
    });
    for (const r of results) {
      expect([0, 77], r.stderr).toContain(r.code);
      if (r.code === 77) expect(r.stderr).toMatch(/^gatekeeper: refused: busy: this policy allows 3 concurrent sessions/);
    }
    const ran = results.filter((r) => r.code === 0).length;
    const { max, spans: started } = maxOverlap(readFileSync(spans, 'utf8'));
    expect(started).toBe(ran);
    expect(ran).toBeGreaterThanOrEqual(SLOTS);
    expect(max, `at most ${SLOTS} at once`).toBeLessThanOrEqual(SLOTS);
    console.info(`maxConnections ${_name}: ${ran}/${GATES} ran, peak ${max} together`);
  });
});

describe('no stale slot after kill -9', () => {
  async function startHolding(node: string) {
    const policy = join(lab.policyDir, 'one.yaml');
    const child = spawn(node, [GATEKEEPER, 'gate', '--policy', policy], {
      env: { SSH_ORIGINAL_COMMAND: COMMAND, SSH_CONNECTION, USER: 'root', PATH: '/usr/bin:/bin' },
      stdio: 'ignore',
    });
    let gone = false;
    const exited = new Promise<void>((r) => child.on('close', () => ((gone = true), r())));
    // Wait until the target has started (the slot is taken), however long a
    // loaded machine takes: a deadline here would let the next gate in first
    // and fail the test for the machine's load. The test's timeout bounds it.
    while (!readFileSync(spans, 'utf8').includes('start')) {
      if (gone) throw new Error('the gate holding the slot exited before its target started');
      await sleep(25);
    }
    return { child, exited, policy };
  }

  it.each([
    ['execve: the session (gate = rsync pid) killed', process.execPath],
    ['spawn fallback: the target under the gate killed', NODE20],
  ])('%s', { timeout: 60_000 }, async (_name, node) => {
    // A missing runtime fails here (no silent pass): scripts/runtimes.sh installs Node 20.
    expect(existsSync(node), `${node} is missing: run bash scripts/runtimes.sh`).toBe(true);
    // A target that holds its slot for a long time.
    const long = join(lab.dir, 'bin', 'long-holder');
    writeFileSync(long, ['#!/bin/sh', `echo "start $(date +%s%N) $$" >> '${spans}'`, 'exec sleep 30', ''].join('\n'), { mode: 0o755 });
    lab.writePolicy('one', { rsync: long, access: 'read-only', root: lab.root, maxConnections: 1 });
    writeFileSync(spans, '');
    const { child, exited, policy } = await startHolding(node);
    try {
      const busy = await lab.run({ command: COMMAND, policy, node });
      expect(busy.code, busy.stderr).toBe(77);
      expect(busy.stderr).toMatch(/busy/);
      // The process holding the slot: with execve the gate itself; in the fallback, its child.
      const holderPid = Number(readFileSync(spans, 'utf8').trim().split(' ')[2]);
      process.kill(holderPid, 'SIGKILL');
      // The gate's exit comes after the holder's (in the fallback it waits
      // for its child; with execve it is the holder): the slot is free now.
      await exited;
      expect(existsSync(`/proc/${holderPid}`), `holder ${holderPid} still exists after the gate exited`).toBe(false);
      // The next session is admitted at once: no stale slot, nobody cleaned up by hand.
      lab.writePolicy('one', { rsync: join(lab.dir, 'bin', 'holder'), access: 'read-only', root: lab.root, maxConnections: 1 });
      const next = await lab.run({ command: COMMAND, policy, node });
      expect(next.code, next.stderr).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

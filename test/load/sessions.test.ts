// Concurrent real rsync sessions through the end-to-end sshd and the gate:
// all succeed, every copy is identical to the source tree, and the log has
// one allow record per session. 10 in the normal suite; `npm run load` runs
// 50 (GK_LOAD_SESSIONS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, missingPrerequisites, setupGate, type GateSetup } from '../helpers/sshd.js';
import { backdate, diffSnapshots, pseudoRandomBytes, snapshot } from '../helpers/tree.js';

const SESSIONS = Number(process.env.GK_LOAD_SESSIONS ?? 10);
const missing = missingPrerequisites();

let g: GateSetup;
let tree: string;

beforeAll(async () => {
  if (missing) return;
  // Enough unauthenticated connections for every session at once (sshd's default MaxStartups is 10).
  g = await setupGate('gk-load-sessions-', [`MaxStartups ${SESSIONS * 2}:30:${SESSIONS * 4}`]);
  tree = join(g.dir, 'tree');
  for (let d = 0; d < 5; d++) {
    mkdirSync(join(tree, `dir${d}`, 'sub'), { recursive: true });
    for (let f = 0; f < 10; f++) writeFileSync(join(tree, `dir${d}`, f % 2 ? 'sub' : '', `file${f}.bin`), pseudoRandomBytes(1024 * (1 + ((d * 10 + f) % 64)), d * 100 + f));
  }
  writeFileSync(join(tree, 'with space.txt'), 'a file with a space\n');
  backdate(tree);
  g.usePolicy('pull', { rsync: '/usr/bin/rsync', access: 'read-only', root: tree });
}, 120_000);
afterAll(async () => {
  await g?.stop();
});

describe.skipIf(missing !== null)(`${SESSIONS} concurrent rsync pulls through sshd and the gate`, () => {
  it('all succeed with identical trees, one allow record each', { timeout: 300_000 }, async () => {
    const dsts = Array.from({ length: SESSIONS }, (_, i) => join(g.dir, `dst${i}`));
    for (const d of dsts) mkdirSync(d);
    const results = await Promise.all(dsts.map((d) => g.sshd.rsync(['-a', '--numeric-ids', 'root@127.0.0.1:/', `${d}/`], { timeoutMs: 240_000 })));
    results.forEach((r) => expect(r.code, describeRun(r)).toBe(0));
    const expected = snapshot(tree);
    for (const d of dsts) expect(diffSnapshots(expected, snapshot(d)), d).toEqual([]);
    const records = g.newRecords();
    expect(records.filter((r) => r.event === 'allow')).toHaveLength(SESSIONS);
    expect(records.filter((r) => r.event !== 'allow')).toEqual([]);
    expect(new Set(records.map((r) => r.session)).size).toBe(SESSIONS);
  });
});

// maxConnections under a daemon policy, for rsync's HOST::MODULE ("--daemon .")
// and openrsync's (a plain server line the gate tells apart by its shape,
// docs/gate.md): the same slot, the same refusal. While the first client is
// stopped (SIGSTOP once admitted, as max-connections.test.ts does), a second
// is refused busy at once; after kill -9 of the admitted session the next is
// admitted and the module arrives whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENTS } from '../helpers/clients.js';
import { describeRun, setupGate, type GateRecord, type GateSetup } from '../helpers/sshd.js';
import { backdate, diffSnapshots, pseudoRandomBytes, snapshot } from '../helpers/tree.js';
import { waitUntil } from '../helpers/wait.js';

async function waitForRecord(g: GateSetup, pred: (r: GateRecord) => boolean, seen: GateRecord[]): Promise<GateRecord> {
  let hit: GateRecord | undefined;
  await waitUntil(() => {
    seen.push(...g.newRecords());
    hit = seen.find(pred);
    return hit !== undefined;
  });
  return hit!;
}

// The three openrsync releases and the system's rsync, side by side.
const chosen = CLIENTS.filter((c) => c.family === 'openrsync' || c.name === 'rsync-system');

let g: GateSetup;
let tree: string;
let config: string;
beforeAll(async () => {
  for (const c of chosen) if (!existsSync(c.bin)) throw new Error(`client ${c.name} not built: run bash scripts/clients.sh`);
  g = await setupGate('gk-e2e-maxconn-daemon-');
  tree = join(g.dir, 'slow-tree');
  mkdirSync(tree);
  // Incompressible: with --bwlimit the first session stays busy until it is stopped.
  writeFileSync(join(tree, 'big.bin'), pseudoRandomBytes(6 * 1024 * 1024, 5));
  backdate(tree);
  config = join(g.dir, 'rsyncd.conf');
  writeFileSync(
    config,
    [`lock file = ${join(g.dir, 'rsyncd.lock')}`, 'use chroot = yes', 'numeric ids = yes', '', '[backup]', `    path = ${tree}`, '    read only = yes', '    uid = 0', '    gid = 0', ''].join('\n'),
    { mode: 0o600 },
  );
  g.usePolicy('daemon-single', { daemon: { config }, maxConnections: 1 });
});
afterAll(async () => {
  await g?.stop();
});

describe.each(chosen)('maxConnections 1 under a daemon policy: $name ($family) HOST::MODULE', (client) => {
  it('a second session is refused busy while the first holds the slot; after kill -9 of the first, the next is admitted', async () => {
    const dst = (n: number) => {
      const d = join(g.dir, `${client.name}-dst${n}`);
      mkdirSync(d);
      return d;
    };
    const [dst1, dst2, dst3] = [dst(1), dst(2), dst(3)];
    const opts = { rsyncBinary: client.bin, timeoutMs: 60_000 };
    g.newRecords();
    const seen: GateRecord[] = [];

    const first = g.sshd.spawnRsync(['-a', '--bwlimit=256', 'root@127.0.0.1::backup/', `${dst1}/`], opts);
    try {
      const admitted = await waitForRecord(g, (r) => r.event === 'allow', seen);
      expect(admitted.argv?.slice(1)).toEqual(['--server', '--daemon', `--config=${config}`, '.']);
      expect(admitted.family).toBe(client.family === 'openrsync' ? 'openrsync' : undefined);
      process.kill(first.child.pid!, 'SIGSTOP');

      const second = await g.sshd.rsync(['-a', 'root@127.0.0.1::backup/', `${dst2}/`], opts);
      expect(second.timedOut, describeRun(second)).toBe(false);
      expect(second.code, describeRun(second)).not.toBe(0);
      expect(second.stderr, describeRun(second)).toMatch(/^gatekeeper: refused: busy: this policy allows 1 concurrent session and one is running; try again later/m);
      expect(readdirSync(dst2)).toEqual([]);
      const busy = await waitForRecord(g, (r) => r.event === 'deny', seen);
      expect(busy.code).toBe('busy');
      expect(first.child.exitCode, 'the first transfer ended too early: make the file bigger or the limit lower').toBeNull();

      // With execve the gate's pid is the daemon's.
      process.kill(admitted.pid, 'SIGKILL');
      process.kill(first.child.pid!, 'SIGCONT');
      const firstResult = await first.done;
      expect(firstResult.code, describeRun(firstResult)).not.toBe(0);
      await waitUntil(() => !existsSync(`/proc/${admitted.pid}`));
    } finally {
      first.child.kill('SIGKILL');
      await first.done.catch(() => undefined);
    }

    const third = await g.sshd.rsync(['-a', 'root@127.0.0.1::backup/', `${dst3}/`], { rsyncBinary: client.bin, timeoutMs: 60_000 });
    expect(third.code, describeRun(third)).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(dst3))).toEqual([]);
    seen.push(...g.newRecords());
    expect(seen.map((r) => r.event), JSON.stringify(seen)).toEqual(['allow', 'deny', 'allow']);
  });
});

// Scenario 3: a push into a write-only root, with --delete; the same key
// cannot pull.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

describe('scenario 3: push into a write-only root', () => {
  let g: GateSetup;
  let src: string;
  let target: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-push-');
    src = join(g.dir, 'client-src');
    buildFixtureTree(src);
    target = join(g.dir, 'push-target');
    mkdirSync(join(target, 'stale-dir'), { recursive: true, mode: 0o755 });
    writeFileSync(join(target, 'stale-dir', 'old'), 'not on the client\n');
    writeFileSync(join(target, 'stale.txt'), 'not on the client\n');
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('without delete: true in the policy, a push with --delete is refused and the target is untouched', async () => {
    g.usePolicy('push-nodelete', { access: 'write-only', root: target, delete: false });
    const before = snapshot(target, { identity: true });
    const r = await g.sshd.rsync(['-avzx', '-H', '--numeric-ids', '--delete', `${src}/`, 'root@127.0.0.1:/']);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/gatekeeper: .*delete/i);
    expect(diffSnapshots(before, snapshot(target, { identity: true }))).toEqual([]);
    expect(g.newRecords().map((x) => x.event)).toEqual(['deny']);
  });

  it('with delete: true, the push mirrors the client tree and removes what the client does not have; no device nodes are made, no setuid/setgid bits', async () => {
    g.usePolicy('push', { access: 'write-only', root: target, delete: true });
    const r = await g.sshd.rsync(['-avzx', '-H', '--numeric-ids', '--delete', `${src}/`, 'root@127.0.0.1:/']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('deleting stale.txt');
    expect(r.stdout).toContain('deleting stale-dir/old');
    // A receiver under a non-/ root gets --drop-D from the gate: a client must not be able to
    // create device nodes (or fifos) on the server. Everything else arrives identical.
    const expected = snapshot(src);
    const special = Object.keys(expected).filter((k) => ['char', 'block', 'fifo'].includes(expected[k]!.type));
    expect(special.sort()).toEqual(['dev/block', 'dev/char', 'dev/fifo']);
    for (const k of special) delete expected[k];
    // setuid: strip (the default) has the gate force --chmod=ugo-s: the tree's setuid file and
    // setgid directory arrive without those bits (test/e2e/push-setuid.test.ts has the attack).
    const stripped = Object.keys(expected).filter((k) => parseInt(expected[k]!.mode, 8) & 0o6000);
    expect(stripped.sort()).toEqual(['empty-dir', 'setuid']);
    for (const k of stripped) expected[k]!.mode = (parseInt(expected[k]!.mode, 8) & ~0o6000).toString(8);
    expect(diffSnapshots(expected, snapshot(target))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['allow']);
    expect(records[0]!.command).toMatch(/^rsync --server -[^ ]*H[^ ]* .*--delete/);
    expect(records[0]!.command).not.toContain('--sender');
    expect(records[0]!.argv).toContain('--drop-D');
    expect(records[0]!.argv).toContain('--chmod=ugo-s');
  });

  it('a pull with the same key is refused and nothing arrives', async () => {
    const dst = join(g.dir, 'pull-dst');
    mkdirSync(dst);
    const before = snapshot(target, { identity: true });
    const r = await g.sshd.rsync(['-avzx', '--numeric-ids', 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(readdirSync(dst)).toEqual([]);
    expect(diffSnapshots(before, snapshot(target, { identity: true }))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['deny']);
    expect(r.stderr).toContain(`gatekeeper: refused: ${records[0]!.reason}`);
    expect(records[0]!.command).toBe('rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /');
  });
});

// Scenarios 1 and 2: the original setup's backup, through the gate, over a
// real sshd; and proof that the policy's rsync is the one that runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, listedFiles, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, changedPaths, diffSnapshots, snapshot, type Snapshot } from '../helpers/tree.js';

/** The seed's backup command, verbatim (`root@host:/ DST/`). */
const BACKUP = ['-avzx', '--numeric-ids', '--delete', '--progress'];

/** A snapshot without hard-link groups: what a run without -H can promise. */
const withoutLinks = (s: Snapshot): Snapshot => Object.fromEntries(Object.entries(s).map(([k, { links: _links, ...v }]) => [k, v]));

describe('scenario 1: the original setup backup through the gate', () => {
  let g: GateSetup;
  let tree: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-backup-');
    tree = join(g.dir, 'server-tree');
    buildFixtureTree(tree);
    g.usePolicy('backup', { access: 'read-only', root: tree });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('the seed command, verbatim, copies everything (hard links as separate files without -H)', async () => {
    const dst = join(g.dir, 'dst-plain');
    mkdirSync(dst);
    const r = await g.sshd.rsync([...BACKUP, 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toBe('');
    expect(diffSnapshots(withoutLinks(snapshot(tree)), withoutLinks(snapshot(dst)))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['allow']);
    expect(records[0]!.command).toBe('rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /');
    // rsync's own progress reaches the client: the gate wrote nothing into the protocol channel.
    expect(listedFiles(r.stdout)).toContain('big.bin');
  });

  describe('with -H, then a dry run, then an incremental run', () => {
    const dst = () => join(g.dir, 'dst-H');

    it('the tree arrives identical: contents, modes, mtimes, owners, links, devices, fifo, awkward names', async () => {
      mkdirSync(dst());
      const r = await g.sshd.rsync([...BACKUP, '-H', 'root@127.0.0.1:/', `${dst()}/`]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(diffSnapshots(snapshot(tree), snapshot(dst()))).toEqual([]);
      expect(g.newRecords().map((x) => [x.event, x.command])).toEqual([
        ['allow', 'rsync --server --sender -vlHogDtprxze.iLsfxCIvu --numeric-ids . /'],
      ]);
    });

    it('a dry run (-n) lists nothing and changes nothing', async () => {
      const before = snapshot(dst(), { identity: true });
      const r = await g.sshd.rsync([...BACKUP, '-H', '-n', 'root@127.0.0.1:/', `${dst()}/`]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(listedFiles(r.stdout)).toEqual([]);
      expect(diffSnapshots(before, snapshot(dst(), { identity: true }))).toEqual([]);
      expect(g.newRecords().map((x) => x.event)).toEqual(['allow']);
    });

    it('after one file changes and one is deleted on the server, the next run transfers just that', async () => {
      writeFileSync(join(tree, 'plain.txt'), 'hello, changed backup\n');
      const when = new Date('2020-01-02T03:04:05Z');
      utimesSync(join(tree, 'plain.txt'), when, when);
      unlinkSync(join(tree, 'sub/private/secret'));
      // rsync decides whether a directory's mtime needs setting to the whole second; a
      // deletion here and there within the same second would leave them a fraction apart.
      utimesSync(join(tree, 'sub/private'), when, when);
      const before = snapshot(dst(), { identity: true });
      const r = await g.sshd.rsync([...BACKUP, '-H', 'root@127.0.0.1:/', `${dst()}/`]);
      expect(r.code, describeRun(r)).toBe(0);
      const listed = listedFiles(r.stdout);
      expect(listed).toContain('plain.txt');
      expect(listed).toContain('deleting sub/private/secret');
      // Nothing else is named but the directory whose mtime the deletion changed.
      expect(listed.filter((l) => l !== 'plain.txt' && l !== 'deleting sub/private/secret' && l !== 'sub/private/')).toEqual([]);
      expect(diffSnapshots(snapshot(tree), snapshot(dst()))).toEqual([]);
      // Every other entry keeps its inode and ctime: nothing else was written. ("." holds
      // rsync's temporary file for plain.txt, so its mtime is put back, which moves its ctime.)
      expect(changedPaths(before, snapshot(dst(), { identity: true }))).toEqual(['.', 'plain.txt', 'sub/private', 'sub/private/secret']);
    });
  });
});

describe('scenario 2: the rewrite is real (the policy rsync runs, not the client one)', () => {
  let g: GateSetup;
  let tree: string;
  let wrapperLog: string;
  let wrapper: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-rewrite-');
    tree = join(g.dir, 'server-tree');
    buildFixtureTree(tree);
    // A second rsync in a root-owned 0700 directory: records that it ran, then becomes the real one.
    const bin = join(g.dir, 'custom-rsync');
    mkdirSync(bin, { mode: 0o700 });
    wrapperLog = join(bin, 'ran.log');
    wrapper = join(bin, 'rsync');
    writeFileSync(wrapper, `#!/bin/sh\nprintf '%s %s %s\\n' "$$" "$PPID" "$*" >> ${wrapperLog}\nexec /usr/bin/rsync "$@"\n`, { mode: 0o755 });
    g.usePolicy('custom', { access: 'read-only', root: tree, rsync: wrapper });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('the client asks for plain `rsync`; the policy build runs, with the server arguments', async () => {
    rmSync(wrapperLog, { force: true });
    const dst = join(g.dir, 'dst');
    mkdirSync(dst);
    const r = await g.sshd.rsync([...BACKUP, '-H', 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(dst))).toEqual([]);
    const [allow, ...rest] = g.newRecords();
    expect(rest).toEqual([]);
    expect(allow!.event).toBe('allow');
    expect(allow!.command!.startsWith('rsync ')).toBe(true);
    expect(allow!.argv![0]).toBe(wrapper);
    const ran = readFileSync(wrapperLog, 'utf8').trim().split('\n');
    expect(ran).toHaveLength(1);
    // The wrapper saw exactly the argv the gate logged (minus argv[0]).
    expect(ran[0]!.split(' ').slice(2).join(' ')).toBe(allow!.argv!.slice(1).join(' '));
    expect(allow!.argv!).toContain('--server');
    expect(allow!.argv!).toContain('--sender');
  });
});

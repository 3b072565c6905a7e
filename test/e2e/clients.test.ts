// Every rsync client in use, through a private sshd and the gate: Apple's
// openrsync (macOS 15.0, 15.x, 26.x), Apple's rsync 2.6.9, rsync 3.0.9, 3.1.3,
// Debian 12's 3.2.7 and the system's rsync. One sshd and one server tree for
// the file; each client pulls, pushes and is refused, for real.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clients } from '../helpers/clients.js';
import { describeRun, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, FIXTURE_GID, FIXTURE_UID, snapshot, type Entry } from '../helpers/tree.js';

// What every client can carry: a hard link, a symlink, a name with spaces, foreign owners.
const o = { uid: FIXTURE_UID, gid: FIXTURE_GID };
const ENTRIES: Entry[] = [
  { kind: 'file', path: 'plain.txt', mode: 0o644, content: 'hello, backup\n' },
  { kind: 'file', path: 'exec.sh', mode: 0o750, content: '#!/bin/sh\necho hi\n' },
  { kind: 'file', path: 'name with spaces.txt', mode: 0o600, content: 'spaces\n' },
  { kind: 'dir', path: 'dir with space', mode: 0o755 },
  { kind: 'file', path: 'dir with space/owned', mode: 0o640, content: 'owned by 1234:2345\n', ...o },
  { kind: 'dir', path: 'sub', mode: 0o750, ...o },
  { kind: 'file', path: 'sub/a', mode: 0o644, content: 'hard-linked\n' },
  { kind: 'hardlink', path: 'sub/b', to: 'sub/a' },
  { kind: 'symlink', path: 'link', target: 'plain.txt' },
  { kind: 'symlink', path: 'sub/owned-link', target: '../plain.txt', ...o },
];

const all = clients();
let g: GateSetup;
let tree: string;
let config: string;
const at = 'root@127.0.0.1';

beforeAll(async () => {
  g = await setupGate('gk-e2e-clients-');
  tree = join(g.dir, 'server-tree');
  buildFixtureTree(tree, ENTRIES);
  config = join(g.dir, 'rsyncd.conf');
  writeFileSync(
    config,
    [`lock file = ${join(g.dir, 'rsyncd.lock')}`, 'use chroot = yes', 'numeric ids = yes', '', '[backup]', `    path = ${tree}`, '    read only = yes', '    uid = 0', '    gid = 0', '', '[etc]', `    path = ${tree}/sub`, '    read only = yes', ''].join('\n'),
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await g?.stop();
});

// Each test reads only its own records.
beforeEach(() => {
  g?.newRecords();
});

/** A snapshot as a client can deliver it: without hard-link groups where the client cannot keep them. */
const as = (client: { hardLinks: boolean }, root: string) => {
  const s = snapshot(root, { mtimePrecision: 's' });
  if (client.hardLinks) return s;
  return Object.fromEntries(Object.entries(s).map(([k, { links: _links, ...v }]) => [k, v]));
};

const daemon = () => g.usePolicy('daemon', { daemon: { config } });
const ro = () => g.usePolicy('ro', { access: 'read-only', root: tree });

describe.each(all)('$name ($family, protocol $protocol, $seenOn)', (client) => {
  const run = (args: string[]) => g.sshd.rsync(args, { rsyncBinary: client.bin });
  const dir = (name: string) => {
    const d = join(g.dir, `${client.name}-${name}`);
    mkdirSync(d, { recursive: true });
    return d;
  };

  it('a pull with -H --delete into a destination holding a stale file: the tree arrives whole, the stale file is gone', async () => {
    ro();
    const dst = dir('pull');
    writeFileSync(join(dst, 'stale'), 'not on the server\n');
    const r = await run(['-a', '-H', '--numeric-ids', '--delete', `${at}:/`, `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(existsSync(join(dst, 'stale'))).toBe(false);
    // Modes, owners, times (whole seconds: protocol 29 carries no more), link counts, content.
    expect(diffSnapshots(as(client, tree), as(client, dst))).toEqual([]);
    if (client.hardLinks) expect(snapshot(dst)['sub/b']?.links).toEqual(['sub/a']);
    expect(g.newRecords().map((x) => x.event)).toEqual(['allow']);
  });

  it('the everyday -avzh --progress pull', async () => {
    ro();
    const dst = dir('everyday');
    const r = await run(['-avzh', '--progress', `${at}:/`, `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(snapshot(dst)['plain.txt']?.sha256).toBe(snapshot(tree)['plain.txt']?.sha256);
    expect(g.newRecords().map((x) => x.event)).toEqual(['allow']);
  });

  it('a push into a write-only policy arrives whole', async () => {
    const target = dir('push-target');
    g.usePolicy('wo', { access: 'write-only', root: target });
    const r = await run(['-a', '-H', '--numeric-ids', `${tree}/`, `${at}:/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(as(client, tree), as(client, target))).toEqual([]);
    expect(g.newRecords().map((x) => x.event)).toEqual(['allow']);
  });

  it('a push with --delete into a write-only policy without delete: true is refused, with the reason at the client', async () => {
    const target = dir('push-nodelete');
    g.usePolicy('wo', { access: 'write-only', root: target });
    const r = await run(['-a', '--delete', `${tree}/`, `${at}:/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/^gatekeeper: refused: option --delete(-before)? is refused: it deletes files on the receiving server; set `delete: true` in the policy to allow deletions$/m);
    expect(existsSync(join(target, 'plain.txt'))).toBe(false);
    expect(g.newRecords().map((x) => x.event)).toEqual(['deny']);
  });

  it('a push to a read-only policy is refused, with the reason at the client', async () => {
    ro();
    const r = await run(['-a', `${tree}/`, `${at}:/incoming/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/^gatekeeper: refused: this policy is read-only: the client may pull \(rsync HOST:PATH DEST\), not push files to the server$/m);
    expect(existsSync(join(tree, 'incoming'))).toBe(false);
    expect(g.newRecords().map((x) => x.event)).toEqual(['deny']);
  });

  it('daemon over ssh (HOST::MODULE) under a daemon policy: the module arrives whole', async () => {
    daemon();
    const dst = dir('daemon');
    const r = await run(['-a', '-H', `${at}::backup/`, `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(as(client, tree), as(client, dst))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => [x.event, x.argv?.slice(1)])).toEqual([['allow', ['--server', '--daemon', `--config=${config}`, '.']]]);
    // openrsync's line shows its family; rsync's "--daemon ." shows none.
    expect(records[0]!.family).toBe(client.family === 'openrsync' ? 'openrsync' : undefined);
  });

  it('a module asked of a path policy is told to use HOST:PATH (never the raw protocol mismatch)', async () => {
    ro();
    const dst = dir('module-of-path');
    const r = await run(['-a', `${at}::backup/`, `${dst}/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/^gatekeeper: refused: (option --daemon is refused: )?this server serves paths, not modules: use HOST:PATH /m);
    expect(r.stderr).not.toMatch(/protocol version mismatch/);
    expect(g.newRecords().map((x) => x.event)).toEqual(['deny']);
  });

  it('a path asked of a daemon policy is told to use HOST::MODULE, and which modules', async () => {
    daemon();
    const dst = dir('path-of-daemon');
    const r = await run(['-a', `${at}:/`, `${dst}/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/^gatekeeper: refused: this is a daemon policy: this server serves rsync modules, not paths: use HOST::MODULE, with MODULE one of: backup, etc \(rsync HOST::MODULE\/PATH DEST\)/m);
    expect(g.newRecords().map((x) => x.event)).toEqual(['deny']);
  });
});

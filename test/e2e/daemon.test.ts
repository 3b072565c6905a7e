// Scenario 4: daemon over ssh, the original setup's first approach
// (`command="rsync --server --daemon ."` plus an rsyncd.conf module), with the
// gate pinning the daemon's configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

describe('scenario 4: daemon over ssh', () => {
  let g: GateSetup;
  let tree: string;
  let config: string;
  let evilConfig: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-daemon-');
    tree = join(g.dir, 'server-tree');
    buildFixtureTree(tree);
    config = join(g.dir, 'rsyncd.conf');
    writeFileSync(
      config,
      [
        `lock file = ${join(g.dir, 'rsyncd.lock')}`,
        'max connections = 1',
        'use chroot = yes',
        'numeric ids = yes',
        '',
        '[system]',
        `    path = ${tree}`,
        '    list = false',
        '    read only = yes',
        '    uid = 0',
        '    gid = 0',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    // What a client would like the daemon to read instead: a module exposing /etc.
    evilConfig = join(g.dir, 'evil-rsyncd.conf');
    writeFileSync(evilConfig, '[evil]\n    path = /etc\n    uid = 0\n    gid = 0\n', { mode: 0o600 });
    g.usePolicy('daemon', { daemon: { config } });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('rsync -av root@127.0.0.1::system/sub/ DST/ brings the module subtree, through the policy config', async () => {
    const dst = join(g.dir, 'dst');
    mkdirSync(dst);
    const r = await g.sshd.rsync(['-av', 'root@127.0.0.1::system/sub/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(snapshot(join(tree, 'sub')), snapshot(dst))).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => [x.event, x.command])).toEqual([['allow', 'rsync --server --daemon .']]);
    expect(records[0]!.argv).toContain(`--config=${config}`);
  });

  it('a client --config (through --rsync-path) is refused; nothing of the other config is served', async () => {
    const dst = join(g.dir, 'dst-config');
    mkdirSync(dst);
    const r = await g.sshd.rsync(['-av', `--rsync-path=rsync --config=${evilConfig}`, 'root@127.0.0.1::evil/hostname', `${dst}/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(readdirSync(dst)).toEqual([]);
    const records = g.newRecords();
    expect(records.map((x) => [x.event, x.command])).toEqual([['deny', `rsync --config=${evilConfig} --server --daemon .`]]);
    expect(r.stderr).toContain(`gatekeeper: refused: ${records[0]!.reason}`);
  });

  it('a module the policy config does not have: the gate lets the daemon answer, and it knows no such module', async () => {
    const dst = join(g.dir, 'dst-module');
    mkdirSync(dst);
    const r = await g.sshd.rsync(['-av', 'root@127.0.0.1::evil/hostname', `${dst}/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/Unknown module 'evil'/);
    expect(readdirSync(dst)).toEqual([]);
    expect(g.newRecords().map((x) => x.event)).toEqual(['allow']);
  });

  it('ssh root@host "rsync --server --daemon --config=EVIL ." is refused with the gatekeeper reason', async () => {
    const r = await g.sshd.ssh(['rsync', '--server', '--daemon', `--config=${evilConfig}`, '.']);
    expect(r.code, describeRun(r)).toBe(77);
    expect(r.stdout).toBe('');
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['deny']);
    expect(r.stderr).toContain(`gatekeeper: refused: ${records[0]!.reason}`);
  });
});

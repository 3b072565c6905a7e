// Validates the harness itself, without the gate: a private sshd, a real
// client, and the original setup's hand-made answer — a fixed forced command
// copied from what the client really sends. If this fails, the scenarios'
// failures say nothing about the gate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizedKeysLine, describeRun, startSshd, type Sshd } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

const BACKUP = ['-avzx', '--numeric-ids', '--delete', '--progress'];

describe('e2e harness (no gate: the original setup by hand)', () => {
  let sshd: Sshd;
  let tree: string;

  beforeAll(async () => {
    sshd = await startSshd({ prefix: 'gk-e2e-harness-' });
    tree = join(sshd.dir, 'tree');
    buildFixtureTree(tree);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('records what the rsync client really sends (the admin debug.sh step)', async () => {
    const recorder = join(sshd.dir, 'record.sh');
    const out = join(sshd.dir, 'original-command.txt');
    writeFileSync(recorder, `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" > ${out}\nexit 1\n`, { mode: 0o700 });
    sshd.setAuthorizedKeys([authorizedKeysLine(recorder, sshd.clientPublicKey)]);
    const dst = join(sshd.dir, 'dst-record');
    mkdirSync(dst);
    const r = await sshd.rsync([...BACKUP, 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /\n');
  });

  it('a fixed forced command with the recorded arguments carries the fixture tree intact', async () => {
    const fixed = `/usr/bin/rsync --server --sender -vlHogDtprxze.iLsfxCIvu --numeric-ids . ${tree}/`;
    sshd.setAuthorizedKeys([authorizedKeysLine(fixed, sshd.clientPublicKey, ['restrict'])]);
    const dst = join(sshd.dir, 'dst-fixed');
    mkdirSync(dst);
    const r = await sshd.rsync([...BACKUP, '-H', 'root@127.0.0.1:/', `${dst}/`]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(dst))).toEqual([]);
  });

  it('sshd refuses root without a forced command (PermitRootLogin forced-commands-only)', async () => {
    sshd.setAuthorizedKeys([sshd.clientPublicKey]);
    const r = await sshd.ssh(['echo', 'should-not-run']);
    expect(r.code, describeRun(r)).toBe(255);
    expect(r.stdout).toBe('');
  });
});

// Scenario 8: the forced command works under sshd's minimal environment.
// This sshd sets a PATH that leads nowhere (SetEnv) and accepts LC_* from the
// client (AcceptEnv, as Debian's default sshd_config does), so anything that
// relied on PATH would fail, and a client variable reaching rsync would show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizedKeysLine, describeRun, setupGate, type GateSetup } from '../helpers/sshd.js';
import { buildFixtureTree, diffSnapshots, snapshot } from '../helpers/tree.js';

const USELESS_PATH = '/nonexistent/gatekeeper-e2e';

function readEnvDump(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('scenario 8: sshd minimal environment, absolute paths only', () => {
  let g: GateSetup;
  let tree: string;
  let bin: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-env-', [`SetEnv PATH=${USELESS_PATH}`, 'AcceptEnv LANG LC_*']);
    tree = join(g.dir, 'server-tree');
    buildFixtureTree(tree);
    bin = join(g.dir, 'bin');
    mkdirSync(bin, { mode: 0o700 });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('precondition: a forced command here finds neither node nor rsync on PATH', async () => {
    const recorder = join(bin, 'record-env');
    const dump = join(bin, 'forced-env.txt');
    writeFileSync(recorder, `#!/bin/sh\n/usr/bin/env > ${dump}\n`, { mode: 0o755 });
    g.sshd.setAuthorizedKeys([authorizedKeysLine(recorder, g.sshd.clientPublicKey)]);
    const r = await g.sshd.ssh(['anything']);
    expect(r.code, describeRun(r)).toBe(0);
    const pathDirs = (readEnvDump(dump).PATH ?? '').split(':');
    expect(pathDirs).toContain(USELESS_PATH);
    for (const d of pathDirs) {
      expect(existsSync(join(d, 'rsync')), `${d}/rsync`).toBe(false);
      expect(existsSync(join(d, 'node')), `${d}/node`).toBe(false);
    }
  });

  it('the seed backup works there, and rsync gets none of the client environment', async () => {
    const wrapper = join(bin, 'rsync');
    const dump = join(bin, 'rsync-env.txt');
    writeFileSync(wrapper, `#!/bin/sh\n/usr/bin/env > ${dump}\nexec /usr/bin/rsync "$@"\n`, { mode: 0o755 });
    g.usePolicy('env', { access: 'read-only', root: tree, rsync: wrapper });
    const dst = join(g.dir, 'dst');
    mkdirSync(dst);
    const r = await g.sshd.rsync(['-avzx', '-H', '--numeric-ids', '--delete', '--progress', 'root@127.0.0.1:/', `${dst}/`], {
      sshArgs: ['-o', 'SetEnv=LC_GATEKEEPER_E2E=from-the-client'],
    });
    expect(r.code, describeRun(r)).toBe(0);
    expect(diffSnapshots(snapshot(tree), snapshot(dst))).toEqual([]);
    expect(g.newRecords().map((x) => x.event)).toEqual(['allow']);
    const env = readEnvDump(dump);
    expect(env.LC_GATEKEEPER_E2E).toBeUndefined();
    expect(env.SSH_ORIGINAL_COMMAND).toBeUndefined();
    expect(env.PATH).not.toContain(USELESS_PATH);
  });

  it('the client variable did reach the forced command (so the check above can fail)', async () => {
    const recorder = join(bin, 'record-env');
    const dump = join(bin, 'forced-env.txt');
    g.sshd.setAuthorizedKeys([authorizedKeysLine(recorder, g.sshd.clientPublicKey)]);
    const r = await g.sshd.ssh(['anything'], { sshArgs: ['-o', 'SetEnv=LC_GATEKEEPER_E2E=from-the-client'] });
    expect(r.code, describeRun(r)).toBe(0);
    expect(readEnvDump(dump).LC_GATEKEEPER_E2E).toBe('from-the-client');
  });
});

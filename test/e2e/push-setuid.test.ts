// A push as root must not plant a setuid-root file under the policy root:
// real ssh + sshd + rsync through the gate, with the shipped default
// (setuid: strip) and with the explicit opt-out (setuid: keep).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeRun, setupGate, type GateSetup } from '../helpers/sshd.js';

describe('a push cannot plant setuid files', () => {
  let g: GateSetup;
  let src: string;
  let target: string;

  beforeAll(async () => {
    g = await setupGate('gk-e2e-setuid-');
    src = join(g.dir, 'client-src');
    mkdirSync(src, { recursive: true });
    // What an attacker with the push key sends: a root-owned copy of a shell-capable binary, 4755,
    // a setgid one, and one that only becomes root's through --usermap.
    copyFileSync('/bin/true', join(src, 'suid-root'));
    chmodSync(join(src, 'suid-root'), 0o4755);
    copyFileSync('/bin/true', join(src, 'sgid'));
    chmodSync(join(src, 'sgid'), 0o2755);
    target = join(g.dir, 'push-target');
    mkdirSync(target, { mode: 0o755 });
  }, 120_000);
  afterAll(async () => {
    await g?.stop();
  });

  const modeOf = (p: string) => lstatSync(p).mode & 0o7777;

  it('default policy: the file lands root-owned but without the setuid and setgid bits', async () => {
    g.usePolicy('push-default', { access: 'write-only', root: target });
    const r = await g.sshd.rsync(['-av', '--numeric-ids', `${src}/`, 'root@127.0.0.1:/strip/']);
    expect(r.code, describeRun(r)).toBe(0);
    const st = lstatSync(join(target, 'strip', 'suid-root'));
    expect(st.uid).toBe(0);
    expect(modeOf(join(target, 'strip', 'suid-root'))).toBe(0o755);
    expect(modeOf(join(target, 'strip', 'sgid'))).toBe(0o755);
    const records = g.newRecords();
    expect(records.map((x) => x.event)).toEqual(['allow']);
    expect(records[0]!.argv).toContain('--chmod=ugo-s');
  }, 120_000);

  it('default policy: a setuid file already on the server loses its bit when pushed again', async () => {
    const dest = join(target, 'strip', 'suid-root');
    chmodSync(dest, 0o4755);
    g.usePolicy('push-default', { access: 'write-only', root: target });
    const r = await g.sshd.rsync(['-av', '--numeric-ids', `${src}/`, 'root@127.0.0.1:/strip/']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(modeOf(dest)).toBe(0o755);
    g.newRecords();
  }, 120_000);

  it('default policy: with -X, a file capability (setuid by another name) does not arrive', async () => {
    const getcap = spawnSync('/usr/sbin/getcap', ['-V']);
    expect(getcap.error, 'getcap/setcap (libcap2-bin) must be installed').toBeUndefined();
    const capped = join(g.dir, 'cap-src');
    mkdirSync(capped, { recursive: true });
    copyFileSync('/bin/true', join(capped, 'capped'));
    const set = spawnSync('/usr/sbin/setcap', ['cap_setuid+ep', join(capped, 'capped')], { encoding: 'utf8' });
    expect(set.status, set.stderr).toBe(0);
    expect(spawnSync('/usr/sbin/getcap', [join(capped, 'capped')], { encoding: 'utf8' }).stdout).toContain('cap_setuid');
    g.usePolicy('push-default', { access: 'write-only', root: target });
    const r = await g.sshd.rsync(['-avX', '--numeric-ids', `${capped}/`, 'root@127.0.0.1:/cap/']);
    expect(r.code, describeRun(r)).toBe(0);
    const landed = join(target, 'cap', 'capped');
    expect(existsSync(landed)).toBe(true);
    expect(spawnSync('/usr/sbin/getcap', [landed], { encoding: 'utf8' }).stdout).not.toContain('cap_setuid');
    expect(g.newRecords()[0]!.argv).toContain('--filter=-x security.capability');
  }, 120_000);

  it('default policy: --chown=root:root (sent as --usermap=*:root) is refused and nothing lands', async () => {
    g.usePolicy('push-default', { access: 'write-only', root: target });
    const r = await g.sshd.rsync(['-av', '--chown=root:root', `${src}/`, 'root@127.0.0.1:/chown/']);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toMatch(/gatekeeper: refused: option --usermap is refused: "\*:root" maps to root/);
    expect(existsSync(join(target, 'chown'))).toBe(false);
    const records = g.newRecords();
    expect(records.map((x) => [x.event, x.code])).toEqual([['deny', 'root-map-refused']]);
  }, 120_000);

  it('default policy: --usermap=*:root on its own is refused too', async () => {
    g.usePolicy('push-default', { access: 'write-only', root: target });
    const r = await g.sshd.rsync(['-av', '--usermap=*:root', `${src}/`, 'root@127.0.0.1:/usermap/']);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr).toContain('"*:root" maps to root');
    expect(existsSync(join(target, 'usermap'))).toBe(false);
    expect(g.newRecords().map((x) => x.code)).toEqual(['root-map-refused']);
  }, 120_000);

  it('setuid: keep (a full-system restore) keeps the bits, as the policy says', async () => {
    g.usePolicy('push-keep', { access: 'write-only', root: target, setuid: 'keep' });
    const r = await g.sshd.rsync(['-av', '--numeric-ids', `${src}/`, 'root@127.0.0.1:/keep/']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(modeOf(join(target, 'keep', 'suid-root'))).toBe(0o4755);
    expect(g.newRecords()[0]!.argv).not.toContain('--chmod=ugo-s');
  }, 120_000);
});

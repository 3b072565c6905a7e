// The logrotate rule install writes, run by the real logrotate (forced, with
// its own state file): the log is rotated and compressed a cycle later, the
// new log is created with the rule's mode and owner, the gate goes on
// appending to the new file (it opens the log afresh per session), and audit
// reads every record across the live, rotated and compressed files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostKey } from '../sshd/shapes.js';
import { cli, installArgs, KEYS, makeServer } from './setup.js';

const LOGROTATE = '/usr/sbin/logrotate';
const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const s = makeServer('debian', hostKey(keyDir));
afterAll(() => {
  rmSync(s.base, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

const launcher = join(s.prefix, 'bin', 'gatekeeper');
/** One session through the installed forced command: the connectivity check, which is logged like any other. */
const session = () => {
  const r = spawnSync(launcher, ['gate', '--policy', 'backup', '--policy-dir', join(s.configDir, 'policies')], {
    env: { PATH: '/usr/bin:/bin', SSH_ORIGINAL_COMMAND: 'true', SSH_CONNECTION: '192.0.2.20 40000 192.0.2.1 22', USER: 'root' },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
};
const rotate = () => {
  const r = spawnSync(LOGROTATE, ['--force', '--state', join(s.base, 'logrotate.state'), join(s.logrotateDir, 'gatekeeper')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
};
const sessionsRead = () => {
  // As an admin runs it: the installed policies name the log, and audit finds its rotated copies.
  const r = cli(['audit', '--policy-dir', join(s.configDir, 'policies'), '--json']);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { session: string }).session);
};

describe('the installed logrotate rule, run by logrotate', () => {
  it('rotates, compresses a cycle later, creates the new log 0640 root, and loses no record', () => {
    const r = cli(installArgs(s, join(KEYS, 'id_ed25519.pub')));
    expect(r.status, r.stderr).toBe(0);
    session();
    session();
    const first = sessionsRead();
    expect(first).toHaveLength(2);

    rotate();
    expect(readFileSync(`${s.log}.1`, 'utf8').trim().split('\n')).toHaveLength(2);
    const created = statSync(s.log);
    expect([created.size, created.mode & 0o777, created.uid, created.gid]).toEqual([0, 0o640, 0, 0]);
    // delaycompress: the file just rotated stays plain (a gate that opened it before the rotation may still append).
    expect(existsSync(`${s.log}.1.gz`)).toBe(false);
    session();
    expect(readFileSync(s.log, 'utf8').trim().split('\n')).toHaveLength(1);

    rotate();
    expect(existsSync(`${s.log}.2.gz`)).toBe(true);
    session();
    const all = sessionsRead();
    expect(all).toHaveLength(4);
    expect(all.slice(0, 2)).toEqual(first);
    expect(new Set(all).size).toBe(4);
  });
});

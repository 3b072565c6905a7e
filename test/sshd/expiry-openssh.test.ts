// Our reading of an expiry-time value against OpenSSH's own: ssh-keygen -V
// parses a validity's end with the same parse_absolute_time() (misc.c) that
// sshd uses for expiry-time, and ssh-keygen -L prints the result in local
// time. Both run in a zone that is not UTC (+05:30, no daylight saving time),
// so a value read in the wrong zone shows.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOpenSshTime, parseExpires, parseOpenSshTime } from '../../src/sshd/expiry.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const ZONE = 'Asia/Kolkata';
const OFFSET = '+05:30';
let dir: string;
let saved: string | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gk-expiry-keygen-'));
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]);
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'user')]);
  saved = process.env.TZ;
  process.env.TZ = ZONE;
});
afterAll(() => {
  if (saved === undefined) delete process.env.TZ;
  else process.env.TZ = saved;
  rmSync(dir, { recursive: true, force: true });
});

/** What OpenSSH makes of `value` as a time: epoch seconds, or null when it refuses it. */
function openssh(value: string): number | null {
  const env = { ...process.env, TZ: ZONE };
  const sign = spawnSync(SSH_KEYGEN, ['-q', '-s', join(dir, 'ca'), '-I', 'oracle', '-V', `always:${value}`, join(dir, 'user.pub')], { env, encoding: 'utf8' });
  if (sign.status !== 0) return null;
  const shown = execFileSync(SSH_KEYGEN, ['-L', '-f', join(dir, 'user-cert.pub')], { env, encoding: 'utf8' });
  const m = /Valid: (?:from .* to|before) (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})/.exec(shown);
  if (!m) throw new Error(`no validity in:\n${shown}`);
  return Date.parse(`${m[1]}${OFFSET}`) / 1000;
}

describe('parseOpenSshTime agrees with OpenSSH (ssh-keygen -V / -L)', () => {
  it.each([
    '20270131',
    '20270131Z',
    '20270131utc',
    '202701311800',
    '202701311800Z',
    '20270131180005',
    '20270131180005Z',
    '20270131180005UTC',
    '20270131180005z',
    '20270231180000Z',
    '20271231235959Z',
    '2027013118',
    '20271301Z',
    '20270132',
    '2027-01-31',
    'tomorrow',
  ])('%s', (value) => {
    const ours = parseOpenSshTime(value);
    expect('epoch' in ours ? ours.epoch : null).toBe(openssh(value));
  });
  it('reads what install writes as the time install meant', () => {
    const epoch = (parseExpires('+4h', { now: Date.parse('2026-12-07T09:15:30Z') }) as { epoch: number }).epoch;
    expect(openssh(formatOpenSshTime(epoch))).toBe(epoch);
  });
});

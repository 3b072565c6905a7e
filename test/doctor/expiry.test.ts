// doctor and expiry-time: a week's warning, and expired lines reported; the
// current time is a fact passed in.
import { describe, expect, it } from 'vitest';
import { authorizedKeysChecks, EXPIRY_WARNING_SECONDS } from '../../src/doctor/checks.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmGtNbEdcnF2ucsUGFUB4MatmK1f0lfz2hcTTwy3mMq client';
const NOW = Date.parse('2026-12-07T09:00:00Z');
const expiryChecks = (expiry: string) => authorizedKeysChecks(`expiry-time="${expiry}" ${KEY}\n`, '/root/.ssh/authorized_keys', NOW).filter((c) => c.check === 'key expiry');

describe('doctor: key expiry', () => {
  it('is ok more than a week ahead', () => {
    expect(expiryChecks('20261214090100Z')).toEqual([expect.objectContaining({ status: 'ok', detail: expect.stringContaining('expires 2026-12-14T09:01:00Z') })]);
  });
  it('warns within a week, saying when', () => {
    expect(EXPIRY_WARNING_SECONDS).toBe(7 * 86400);
    expect(expiryChecks('20261214090000Z')).toEqual([expect.objectContaining({ status: 'warn', detail: expect.stringContaining('(in 7d 0h)') })]);
    expect(expiryChecks('20261207103000Z')).toEqual([expect.objectContaining({ status: 'warn', detail: expect.stringContaining('(in 1h 30m)') })]);
  });
  it('reports a line whose expiry has passed, with the fix', () => {
    expect(expiryChecks('20261207085959Z')).toEqual([
      expect.objectContaining({ status: 'warn', detail: expect.stringMatching(/:1 ssh-ed25519 SHA256:\S+ client expired 2026-12-07T08:59:59Z: sshd refuses it$/), fix: expect.stringContaining('gatekeeper uninstall --expired') }),
    ]);
  });
  it('says nothing about a line without expiry-time', () => {
    expect(authorizedKeysChecks(`${KEY}\n`, '/x', NOW).filter((c) => c.check === 'key expiry')).toEqual([]);
  });
});

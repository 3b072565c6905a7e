// expiry-time="…": the forms `install --expires` accepts, what sshd reads
// back (misc.c parse_absolute_time), and the one form we write.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateLine } from '../../src/install/keys.js';
import { parseSshdVersion, supportsUtcExpiry } from '../../src/sshd/run.js';
import { parseLine, parsePublicKey } from '../../src/sshd/authorized-keys.js';
import { formatOpenSshTime, isExpired, isoTime, lineExpiry, parseExpires, parseOpenSshTime } from '../../src/sshd/expiry.js';

const at = (iso: string) => ({ now: Date.parse(iso) });
const NOW = at('2026-12-07T09:15:30.750Z');
const epochOf = (iso: string) => Date.parse(iso) / 1000;
const ok = (r: { epoch: number } | { error: string }): number => {
  if ('error' in r) throw new Error(r.error);
  return r.epoch;
};
const errorOf = (r: { epoch: number } | { error: string }): string => ('error' in r ? r.error : `no error: ${r.epoch}`);

describe('parseExpires: relative times count from the current time (a fact), whole seconds', () => {
  it.each([
    ['+90s', '2026-12-07T09:17:00Z'],
    ['+30m', '2026-12-07T09:45:30Z'],
    ['+4h', '2026-12-07T13:15:30Z'],
    ['+7d', '2026-12-14T09:15:30Z'],
    ['+2w', '2026-12-21T09:15:30Z'],
    ['+1d12h', '2026-12-08T21:15:30Z'],
    ['+1H', '2026-12-07T10:15:30Z'],
  ])('%s is %s', (when, iso) => expect(ok(parseExpires(when, NOW))).toBe(epochOf(iso)));
  it.each(['+', '+4', '+4x', '+h', '+-4h', '+4h,2m', '+ 4h'])('refuses %j', (when) => {
    expect(errorOf(parseExpires(when, NOW))).toMatch(/--expires/);
  });
});

describe('parseExpires: absolute times', () => {
  it.each([
    ['20270131', '2027-01-31T00:00:00', 'local'],
    ['20270131Z', '2027-01-31T00:00:00Z', 'any'],
    ['202701311800Z', '2027-01-31T18:00:00Z', 'any'],
    ['20270131180005Z', '2027-01-31T18:00:05Z', 'any'],
    ['20270131180005utc', '2027-01-31T18:00:05Z', 'any'],
    ['2027-01-31', '2027-01-31T00:00:00', 'local'],
    ['2027-01-31T18:00Z', '2027-01-31T18:00:00Z', 'any'],
    ['2027-01-31T18:00:05Z', '2027-01-31T18:00:05Z', 'any'],
    ['2027-01-31 18:00:05z', '2027-01-31T18:00:05Z', 'any'],
    ['2027-01-31T18:00:05+02:00', '2027-01-31T16:00:05Z', 'any'],
    ['2027-01-31T18:00:05-0130', '2027-01-31T19:30:05Z', 'any'],
  ])('%s is %s (%s)', (when, iso) => {
    // Date.parse reads an ISO date-time without a zone as local time, as sshd's mktime does.
    expect(ok(parseExpires(when, NOW))).toBe(epochOf(iso));
  });
  it('reads a time without a zone as local time, as sshd does (mktime)', () => {
    // Node re-reads TZ when it changes: +05:30, no daylight saving time.
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    try {
      const want = epochOf('2027-01-31T12:30:00Z');
      expect(ok(parseExpires('202701311800', NOW))).toBe(want);
      expect(ok(parseExpires('2027-01-31T18:00', NOW))).toBe(want);
      expect(ok(parseOpenSshTime('20270131180000'))).toBe(want);
      expect(ok(parseOpenSshTime('20270131180000Z'))).toBe(epochOf('2027-01-31T18:00:00Z'));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
  it.each([
    ['2026-12-07T09:15:30Z', /not in the future/],
    ['20261207091530Z', /not in the future/],
    ['20261201Z', /not in the future/],
    ['2027-02-30', /not a valid date/],
    ['2027-13-01', /not a valid date/],
    ['2027-01-31T24:00Z', /not a valid date/],
    ['2027-01-31T18:00:60Z', /not a valid date/],
    ['20271301Z', /not a valid date/],
    ['2027013118Z', /not YYYYMMDD/],
    ['202701311800000Z', /not YYYYMMDD/],
    ['tomorrow', /not a time/],
    ['2027/01/31', /not a time/],
    ['99991231235959Z', null],
  ])('%s: %s', (when, why) => {
    const r = parseExpires(when, NOW);
    if (why === null) expect(r).toEqual({ epoch: epochOf('9999-12-31T23:59:59Z') });
    else expect(errorOf(r)).toMatch(why);
  });
});

describe('what sshd reads: parse_absolute_time', () => {
  it('takes the three lengths, with Z or UTC in any case for UTC', () => {
    expect(ok(parseOpenSshTime('20270131'))).toBe(new Date(2027, 0, 31).getTime() / 1000);
    expect(ok(parseOpenSshTime('20270131z'))).toBe(epochOf('2027-01-31T00:00:00Z'));
    expect(ok(parseOpenSshTime('202701311801UtC'))).toBe(epochOf('2027-01-31T18:01:00Z'));
  });
  it('normalises an out-of-range day as mktime/timegm do (strptime takes 1-31)', () => {
    expect(ok(parseOpenSshTime('20270231Z'))).toBe(epochOf('2027-03-03T00:00:00Z'));
  });
  it.each(['', 'Z', 'UTC', '2027013', '2027-01-31', '20270132Z', '20270100Z', '2027013124Z00', '19700101000000Z', '19691231Z', ' 20270131Z', '20270131 Z'])('refuses %j (sshd rejects the line)', (v) => {
    expect(errorOf(parseOpenSshTime(v))).toMatch(/expiry-time/);
  });
  it('reads back what we write, for any second in years 1970-9999 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: epochOf('9999-12-31T23:59:59Z') }), (epoch) => {
        const written = formatOpenSshTime(epoch);
        expect(written).toMatch(/^\d{14}Z$/);
        expect(parseOpenSshTime(written)).toEqual({ epoch });
      }),
    );
  });
});

describe('an authorized_keys line with expiry-time', () => {
  const key = parsePublicKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmGtNbEdcnF2ucsUGFUB4MatmK1f0lfz2hcTTwy3mMq client')!;
  if ('error' in key) throw new Error(key.error);
  const spec = { command: '/usr/local/bin/gatekeeper gate --policy p', restrict: true };
  it('is written by install in UTC with Z, and parsed back to the same time', () => {
    const epoch = ok(parseExpires('+4h', NOW));
    const line = gateLine(key, { ...spec, expires: epoch });
    expect(line).toContain(',expiry-time="20261207131530Z" ssh-ed25519 ');
    const parsed = parseLine(line);
    if (parsed.kind !== 'key') throw new Error(JSON.stringify(parsed));
    expect(lineExpiry(parsed.options)).toEqual({ epoch });
    expect(isoTime(epoch)).toBe('2026-12-07T13:15:30Z');
  });
  it('has no expiry without the option', () => {
    const parsed = parseLine(gateLine(key, spec));
    if (parsed.kind !== 'key') throw new Error('not a key line');
    expect(lineExpiry(parsed.options)).toBeNull();
  });
  it('counts the earliest of several expiry-time options, whatever their case (auth-options.c)', () => {
    const parsed = parseLine(`EXPIRY-TIME="20280101Z",expiry-time="20270101Z",expiry-time="20290101Z" ${key.type} ${key.blob}`);
    if (parsed.kind !== 'key') throw new Error('not a key line');
    expect(lineExpiry(parsed.options)).toEqual({ epoch: epochOf('2027-01-01T00:00:00Z') });
  });
  it('is an invalid line when sshd cannot read the time (it rejects the whole line)', () => {
    expect(parseLine(`expiry-time="next week" ${key.type} ${key.blob}`)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/expiry-time/) });
    expect(parseLine(`expiry-time="19700101000000Z" ${key.type} ${key.blob}`)).toMatchObject({ kind: 'invalid' });
  });
  it('is expired once its second has passed (valid_before < now), not during it', () => {
    const epoch = epochOf('2026-12-07T09:15:30Z');
    expect(isExpired(epoch, at('2026-12-07T09:15:30.999Z'))).toBe(false);
    expect(isExpired(epoch, at('2026-12-07T09:15:31.000Z'))).toBe(true);
    expect(isExpired(epoch, at('2026-12-07T09:15:29.000Z'))).toBe(false);
  });
});

describe('which sshd reads the Z suffix (OpenSSH 9.1+, bz3468)', () => {
  it.each([
    ['OpenSSH_8.4p1 Debian-5+deb11u3', false],
    ['OpenSSH_8.9p1 Ubuntu-3ubuntu0.10', false],
    ['OpenSSH_9.0p1', false],
    ['OpenSSH_9.1p1', true],
    ['OpenSSH_9.2p1 Debian-2+deb12u10', true],
    ['OpenSSH_10.0p2', true],
  ])('%s: %s', (text, yes) => expect(supportsUtcExpiry(parseSshdVersion(text))).toBe(yes));
});

// Backup windows, the pure part (src/window.ts): range syntax, matching on
// wall-clock time at both daylight-saving switches of Europe/Berlin and
// America/New_York, `check --at` times, and the schema's errors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatOffset, inRange, isTimeZone, parseAt, parseRange, rangeProblem, wallClock, windowRefusal } from '../../src/window.js';
import { validatePolicy } from '../../src/policy/load.js';
import { policyRefusal } from '../helpers/policy.js';

const at = (iso: string) => Date.parse(iso);

describe('ranges', () => {
  it.each([
    ['01:00-05:00', { start: 60, end: 300 }],
    ['22:00-06:00', { start: 1320, end: 360 }],
    ['00:00-24:00', { start: 0, end: 1440 }],
    ['23:59-00:00', { start: 1439, end: 0 }],
    ['20:00-24:00', { start: 1200, end: 1440 }],
  ])('%s parses', (text, range) => {
    expect(parseRange(text)).toEqual(range);
    expect(rangeProblem(text)).toBeNull();
  });

  it.each(['02:00-02:00', '00:00-00:00', '24:00-24:00'])('%s has no length, or is malformed: refused', (text) => {
    expect(parseRange(text)).toBeNull();
    expect(rangeProblem(text)).not.toBeNull();
  });
  it('a zero-length range is named as such', () => {
    expect(rangeProblem('02:00-02:00')).toMatch(/starts where it ends/);
  });

  it.each(['1:00-5:00', '01:00-5:00', '24:00-01:00', '01:00-24:01', '25:00-01:00', '01:60-02:00', '01:00 - 05:00', '01:00-05:00 ', '0100-0500', '01:00', '', '01:00-05:00-06:00', '٠١:٠٠-٠٥:٠٠'])(
    'malformed: %j',
    (text) => {
      expect(parseRange(text)).toBeNull();
      expect(rangeProblem(text)).toMatch(/not a range HH:MM-HH:MM/);
    },
  );

  it('start inclusive, end exclusive; end before start crosses midnight', () => {
    const day = { start: 60, end: 300 };
    expect([59, 60, 299, 300].map((m) => inRange(m, day))).toEqual([false, true, true, false]);
    const night = { start: 1320, end: 360 };
    expect([1319, 1320, 1439, 0, 359, 360, 720].map((m) => inRange(m, night))).toEqual([false, true, true, true, true, false, false]);
    const toMidnight = { start: 1200, end: 1440 };
    expect([1199, 1200, 1439, 0].map((m) => inRange(m, toMidnight))).toEqual([false, true, true, false]);
  });
});

describe('time zones', () => {
  it.each(['Europe/Berlin', 'America/New_York', 'UTC', 'Etc/GMT+5', 'Asia/Kolkata'])('%s is a zone', (z) => expect(isTimeZone(z)).toBe(true));
  it.each(['Mars/Olympus', 'Europe/Berlinn', '', '+01:00', 'CET; rm -rf /', '../etc/localtime', 'Europe/../UTC/'])('%j is not', (z) => expect(isTimeZone(z)).toBe(false));

  it('the wall clock, with the offset of the moment', () => {
    expect(wallClock(at('2026-12-02T13:05:09Z'), 'Europe/Berlin')).toEqual({ zone: 'Europe/Berlin', year: 2026, month: 12, day: 2, hour: 14, minute: 5, second: 9, offset: 60 });
    expect(wallClock(at('2026-07-01T03:30:00.999Z'), 'America/New_York')).toMatchObject({ year: 2026, month: 6, day: 30, hour: 23, minute: 30, offset: -240 });
    expect(wallClock(at('2026-12-31T23:59:59Z'), 'Asia/Kolkata')).toMatchObject({ year: 2027, month: 1, day: 1, hour: 5, minute: 29, offset: 330 });
    expect(wallClock(at('2026-12-02T00:00:00Z'), 'UTC')).toMatchObject({ hour: 0, minute: 0, offset: 0 });
    expect([formatOffset(60), formatOffset(-240), formatOffset(330), formatOffset(0)]).toEqual(['UTC+01:00', 'UTC-04:00', 'UTC+05:30', 'UTC+00:00']);
  });
});

describe('windowRefusal', () => {
  it('names the windows, the zone and the time it is there', () => {
    expect(windowRefusal(['22:00-06:00', '12:00-13:00'], 'Europe/Berlin', at('2026-12-02T13:05:00Z'))).toBe(
      "outside this policy's backup windows 22:00-06:00, 12:00-13:00 (Europe/Berlin): it is now 2026-12-02 14:05 (UTC+01:00) there",
    );
    expect(windowRefusal(['01:00-05:00'], 'UTC', at('2026-12-02T05:00:00Z'))).toBe("outside this policy's backup window 01:00-05:00 (UTC): it is now 2026-12-02 05:00 (UTC+00:00) there");
    expect(windowRefusal(['22:00-06:00', '12:00-13:00'], 'Europe/Berlin', at('2026-12-02T11:00:00Z'))).toBeNull();
  });

  // The schema refuses such entries; should one reach windowRefusal anyway
  // (a policy object built past the loader), it matches no time: fail closed.
  it.each(['25:00-26:00', '3:00-5:00', '01:00-05:00 ', 'nonsense', '', '03:00-03:00', '24:00-01:00'])('a malformed or empty entry %j allows no time at all', (entry) => {
    for (const iso of ['2026-12-02T00:00:00Z', '2026-12-02T03:00:00Z', '2026-12-02T04:30:00Z', '2026-12-02T23:59:00Z']) {
      expect(windowRefusal([entry], 'UTC', at(iso)), `${entry} at ${iso}`).toBe(`outside this policy's backup window ${entry} (UTC): it is now ${iso.slice(0, 10)} ${iso.slice(11, 16)} (UTC+00:00) there`);
    }
  });
  it('beside a malformed entry a valid one still decides', () => {
    expect(windowRefusal(['nonsense', '01:00-05:00'], 'UTC', at('2026-12-02T03:00:00Z'))).toBeNull();
    expect(windowRefusal(['nonsense', '01:00-05:00'], 'UTC', at('2026-12-02T06:00:00Z'))).toMatch(/^outside this policy's backup windows nonsense, 01:00-05:00 \(UTC\)/);
  });

  it('seconds do not matter: 04:59:59.999 is in 01:00-05:00', () => {
    expect(windowRefusal(['01:00-05:00'], 'UTC', at('2026-12-02T04:59:59.999Z'))).toBeNull();
    expect(windowRefusal(['01:00-05:00'], 'UTC', at('2026-12-02T00:59:59.999Z'))).not.toBeNull();
  });

  // Daylight saving, as a clock on the wall shows it. Each row: the zone,
  // the window, and instants (UTC) with the wall-clock time they show and
  // whether they are inside. Edges in the skipped hour take effect when the
  // clock jumps past them; the part of a range in a repeated hour applies on
  // both passes.
  const table: [string, string, string, [string, string, boolean][]][] = [
    ['Europe/Berlin', 'spring forward (02:00 CET → 03:00 CEST), start in the skipped hour', '02:30-04:00', [
      ['2026-03-29T00:59:59Z', '01:59 (UTC+01:00)', false],
      ['2026-03-29T01:00:00Z', '03:00 (UTC+02:00)', true],
      ['2026-03-29T01:59:59Z', '03:59 (UTC+02:00)', true],
      ['2026-03-29T02:00:00Z', '04:00 (UTC+02:00)', false],
    ]],
    ['Europe/Berlin', 'spring forward, end in the skipped hour', '01:00-02:30', [
      ['2026-03-28T23:59:59Z', '00:59 (UTC+01:00)', false],
      ['2026-03-29T00:00:00Z', '01:00 (UTC+01:00)', true],
      ['2026-03-29T00:59:59Z', '01:59 (UTC+01:00)', true],
      ['2026-03-29T01:00:00Z', '03:00 (UTC+02:00)', false],
    ]],
    ['Europe/Berlin', 'fall back (03:00 CEST → 02:00 CET), start in the repeated hour', '02:30-04:00', [
      ['2026-10-25T00:29:59Z', '02:29 (UTC+02:00)', false],
      ['2026-10-25T00:30:00Z', '02:30 (UTC+02:00)', true],
      ['2026-10-25T00:59:59Z', '02:59 (UTC+02:00)', true],
      ['2026-10-25T01:00:00Z', '02:00 (UTC+01:00)', false],
      ['2026-10-25T01:30:00Z', '02:30 (UTC+01:00)', true],
      ['2026-10-25T02:59:59Z', '03:59 (UTC+01:00)', true],
      ['2026-10-25T03:00:00Z', '04:00 (UTC+01:00)', false],
    ]],
    ['Europe/Berlin', 'fall back, end in the repeated hour', '01:00-02:30', [
      ['2026-10-24T23:00:00Z', '01:00 (UTC+02:00)', true],
      ['2026-10-25T00:29:59Z', '02:29 (UTC+02:00)', true],
      ['2026-10-25T00:30:00Z', '02:30 (UTC+02:00)', false],
      ['2026-10-25T01:00:00Z', '02:00 (UTC+01:00)', true],
      ['2026-10-25T01:30:00Z', '02:30 (UTC+01:00)', false],
    ]],
    ['America/New_York', 'spring forward (02:00 EST → 03:00 EDT), start in the skipped hour', '02:30-04:00', [
      ['2026-03-08T06:59:59Z', '01:59 (UTC-05:00)', false],
      ['2026-03-08T07:00:00Z', '03:00 (UTC-04:00)', true],
      ['2026-03-08T07:59:59Z', '03:59 (UTC-04:00)', true],
      ['2026-03-08T08:00:00Z', '04:00 (UTC-04:00)', false],
    ]],
    ['America/New_York', 'spring forward, end in the skipped hour', '01:00-02:30', [
      ['2026-03-08T06:00:00Z', '01:00 (UTC-05:00)', true],
      ['2026-03-08T06:59:59Z', '01:59 (UTC-05:00)', true],
      ['2026-03-08T07:00:00Z', '03:00 (UTC-04:00)', false],
    ]],
    ['America/New_York', 'fall back (02:00 EDT → 01:00 EST), start in the repeated hour', '01:30-03:00', [
      ['2026-11-01T05:29:59Z', '01:29 (UTC-04:00)', false],
      ['2026-11-01T05:30:00Z', '01:30 (UTC-04:00)', true],
      ['2026-11-01T05:59:59Z', '01:59 (UTC-04:00)', true],
      ['2026-11-01T06:00:00Z', '01:00 (UTC-05:00)', false],
      ['2026-11-01T06:30:00Z', '01:30 (UTC-05:00)', true],
      ['2026-11-01T07:59:59Z', '02:59 (UTC-05:00)', true],
      ['2026-11-01T08:00:00Z', '03:00 (UTC-05:00)', false],
    ]],
    ['America/New_York', 'fall back, end in the repeated hour', '00:00-01:30', [
      ['2026-11-01T04:00:00Z', '00:00 (UTC-04:00)', true],
      ['2026-11-01T05:29:59Z', '01:29 (UTC-04:00)', true],
      ['2026-11-01T05:30:00Z', '01:30 (UTC-04:00)', false],
      ['2026-11-01T06:00:00Z', '01:00 (UTC-05:00)', true],
      ['2026-11-01T06:30:00Z', '01:30 (UTC-05:00)', false],
    ]],
  ];
  describe.each(table)('%s, %s: %s', (zone, _what, range, rows) => {
    it.each(rows)('at %s (%s there): inside %s', (instant, shows, inside) => {
      const reason = windowRefusal([range], zone, at(instant));
      expect(reason === null).toBe(inside);
      if (reason) expect(reason).toContain(` ${shows} there`);
      const w = wallClock(at(instant), zone);
      expect(`${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`).toBe(shows.slice(0, 5));
    });
  });
});

describe('parseAt (check --at TIME)', () => {
  it.each([
    ['2026-12-02T03:30Z', 'UTC', '2026-12-02T03:30:00.000Z'],
    ['2026-12-02t03:30z', 'Europe/Berlin', '2026-12-02T03:30:00.000Z'],
    ['2026-12-02T03:30:15.25+01:00', 'UTC', '2026-12-02T02:30:15.250Z'],
    ['2026-12-02T03:30-0500', 'UTC', '2026-12-02T08:30:00.000Z'],
    ['2026-12-02T03:30+05', 'UTC', '2026-12-01T22:30:00.000Z'],
    ['2026-12-02 03:30', 'UTC', '2026-12-02T03:30:00.000Z'],
    // Without an offset: wall-clock time in the policy's zone.
    ['2026-12-02T03:30', 'Europe/Berlin', '2026-12-02T02:30:00.000Z'],
    ['2026-07-02T03:30:00', 'Europe/Berlin', '2026-07-02T01:30:00.000Z'],
    ['2026-07-02T03:30', 'America/New_York', '2026-07-02T07:30:00.000Z'],
    ['2026-03-29T03:00', 'Europe/Berlin', '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T01:59:59', 'Europe/Berlin', '2026-03-29T00:59:59.000Z'],
    ['2026-11-01T02:00', 'America/New_York', '2026-11-01T07:00:00.000Z'],
    // The repeated hour with an offset: either pass.
    ['2026-10-25T02:30+02:00', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
    ['2026-10-25T02:30+01:00', 'Europe/Berlin', '2026-10-25T01:30:00.000Z'],
    ['2024-02-29T12:00Z', 'UTC', '2024-02-29T12:00:00.000Z'],
  ])('%s in %s is %s', (text, zone, iso) => {
    const r = parseAt(text, zone);
    expect(r).toEqual({ ok: true, time: Date.parse(iso) });
  });

  it.each([
    ['2026-03-29T02:30', 'Europe/Berlin'],
    ['2026-03-08T02:00', 'America/New_York'],
  ])('%s does not exist in %s: the clocks skip it', (text, zone) => {
    const r = parseAt(text, zone);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(new RegExp(`does not exist in ${zone}.*give a UTC offset`));
  });

  it.each([
    ['2026-10-25T02:30', 'Europe/Berlin', '+02:00 or +01:00'],
    ['2026-11-01T01:15', 'America/New_York', '-04:00 or -05:00'],
  ])('%s happens twice in %s: an offset is asked for', (text, zone, which) => {
    const r = parseAt(text, zone);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(`happens twice in ${zone} (the clocks go back): give the UTC offset, ${which}`);
  });

  it.each(['yesterday', '2026-12-02', '03:30', '2026-12-02T3:30', '2026-13-01T00:00', '2026-02-30T00:00', '2025-02-29T00:00', '2026-12-02T24:00', '2026-12-02T23:60', '2026-12-02T23:00:60', '2026-12-02T23:00+24:00', '2026-12-02T23:00+01:60', '1764640800000', '2026-12-02T23:00 Europe/Berlin', ''])(
    '%j is refused, with the form to use',
    (text) => {
      const r = parseAt(text, 'UTC');
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/ISO 8601, e\.g\. 2026-12-02T03:30/);
    },
  );
});

describe('the schema: a malformed range or an unknown zone is a configuration error naming the key', () => {
  const invalid = policyRefusal;
  it.each([
    [{ window: ['02:00-02:00'] }, /window\.0: "02:00-02:00" starts where it ends/],
    [{ window: ['01:00-05:00', '1:00-5:00'] }, /window\.1: "1:00-5:00" is not a range HH:MM-HH:MM/],
    [{ window: ['25:00-01:00'] }, /window\.0: "25:00-01:00" is not a range/],
    [{ window: [] }, /window: list at least one range/],
    [{ window: '01:00-05:00' }, /window: /],
    [{ window: [130] }, /window\.0: /],
    [{ window: ['01:00-05:00'], timezone: 'Mars/Olympus' }, /timezone: "Mars\/Olympus" is not a time zone name/],
    [{ timezone: '+01:00' }, /timezone: "\+01:00" is not a time zone name/],
  ])('%j', (data, message) => {
    const e = invalid(data);
    expect(e.exitCode).toBe(78);
    expect(e.message).toMatch(message);
    // One problem per bad entry, not two.
    expect(e.message.split('; ')).toHaveLength(1);
    expect(e.message.match(/(window\.?\d*|timezone): /g)).toHaveLength(1);
  });

  it('valid keys are kept as written, and survive the JSON round trip of the gate cache', () => {
    const p = validatePolicy({ window: ['22:00-06:00', '12:00-24:00'], timezone: 'America/New_York' }, '/p.yaml');
    expect(p).toMatchObject({ window: ['22:00-06:00', '12:00-24:00'], timezone: 'America/New_York' });
    expect(JSON.parse(JSON.stringify(p))).toStrictEqual(p);
    const none = validatePolicy({}, '/p.yaml');
    expect('window' in none || 'timezone' in none).toBe(false);
  });
});

describe('reading the clock in a zone leaves the process as it was', () => {
  it('TZ is put back (or left unset), whatever zone was read', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      expect(wallClock(at('2026-12-02T00:00:00Z'), 'Europe/Berlin').hour).toBe(1);
      expect(process.env.TZ).toBe('Asia/Tokyo');
      expect(new Date(at('2026-12-02T00:00:00Z')).getHours()).toBe(9);
      // The server's own zone: TZ's, named as such.
      expect(wallClock(at('2026-12-02T00:00:00Z'), undefined)).toMatchObject({ zone: 'Asia/Tokyo', hour: 9, offset: 540 });
      delete process.env.TZ;
      wallClock(at('2026-12-02T00:00:00Z'), 'America/New_York');
      expect('TZ' in process.env).toBe(false);
      expect(wallClock(0, undefined).zone).toBe("the server's local time zone");
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it.each(['europe/berlin', 'AMERICA/NEW_YORK'])('%s: Intl would take it, Date would read UTC: refused', (name) => {
    expect(isTimeZone(name)).toBe(false);
  });
  it.each(['US/Eastern', 'Europe/Kiev', 'Asia/Calcutta', 'EST5EDT'])('%s (an IANA link or legacy name both read alike) is accepted', (name) => {
    expect(isTimeZone(name)).toBe(true);
  });
});

describe('properties', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/St_Johns'];
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');

  it('matching agrees with a minute-by-minute reading of the range', () => {
    const minute = fc.integer({ min: 0, max: 1439 });
    fc.assert(
      fc.property(minute, fc.integer({ min: 1, max: 1440 }), minute, (start, end, m) => {
        fc.pre(start !== end && start < 1440);
        const text = `${pad(Math.floor(start / 60))}:${pad(start % 60)}-${pad(Math.floor(end / 60))}:${pad(end % 60)}`;
        const r = parseRange(text)!;
        expect(r).toEqual({ start, end });
        // Walk the clock from start, minute by minute, to end (exclusive),
        // through midnight when end is earlier; 00:00-24:00 is the whole day.
        const covered = new Set<number>();
        for (let k = start; k < (end > start ? end : end + 1440); k++) covered.add(k % 1440);
        expect(inRange(m, r)).toBe(covered.has(m));
      }),
      // The whole day (00:00-24:00) was a one-in-many-runs counterexample of
      // the model above, which stopped at once where end % 1440 === start.
      { numRuns: 500, examples: [[0, 1440, 0], [0, 1440, 1439], [1439, 1440, 1439], [1439, 0, 0]] },
    );
  });

  it('an instant written as wall-clock time in its zone reads back as that instant (or as ambiguous)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...zones), (ms, zone) => {
        const t = Math.floor(ms / 1000) * 1000;
        const w = wallClock(t, zone);
        const text = `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
        const r = parseAt(text, zone);
        if (r.ok) expect(r.time).toBe(t);
        else expect(r.reason).toMatch(/happens twice/);
        // With the offset it is always that instant.
        const sign = w.offset < 0 ? '-' : '+';
        const off = Math.abs(w.offset);
        expect(parseAt(`${text}${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`, zone)).toEqual({ ok: true, time: t });
      }),
      { numRuns: 300 },
    );
  });
});

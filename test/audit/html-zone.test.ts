// The report's nights are counted from a table of UTC offsets per zone
// (views/html/zone.ts) instead of asking for the zone per record. The table
// must give what Intl gives at every instant: checked here on each offset
// change of 2000–2030 in zones with the awkward ones (half-hour DST on Lord
// Howe, +05:45, a zone that skipped a whole day, DST suspended for Ramadan,
// a two-hour summer offset, negative DST in Dublin), a second on either side
// of every change, and at random instants asked in no particular order.
// The reference is Intl's own offset name ("GMT+05:45"), not the parts the
// table reads.
import { describe, expect, it } from 'vitest';
import { ZoneOffsets } from '../../src/audit/views/html/zone.js';
import { NightPlan } from '../../src/audit/views/html.js';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'Pacific/Apia', 'Africa/Casablanca', 'Antarctica/Troll', 'Europe/Dublin', 'America/St_Johns', 'Asia/Tehran', 'UTC'];

/** Minutes east of UTC at t, from Intl's "GMT+hh:mm" name. */
function reference(zone: string): (t: number) => number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  return (t) => {
    const name = f.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value;
    const m = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(name);
    if (!m) throw new Error(`unexpected offset name ${name}`);
    return m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  };
}

/** Every instant in [from, to) where the zone's offset changes, to the second (scanned daily, then bisected). */
function changes(ref: (t: number) => number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += 86_400_000) {
    if (ref(t) === ref(t + 86_400_000)) continue;
    let lo = t;
    let hi = t + 86_400_000;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (ref(mid) === ref(lo)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}

// xorshift32: the same instants on every run.
function random(seed: number) {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
}

describe('ZoneOffsets', () => {
  const from = Date.UTC(2000, 0, 1);
  const to = Date.UTC(2031, 0, 1);

  for (const zone of ZONES) {
    it(`${zone}: Intl's offset on each side of every change 2000–2030, and at random instants`, () => {
      const ref = reference(zone);
      const table = new ZoneOffsets(zone);
      const found = changes(ref, from, to);
      if (zone !== 'UTC' && zone !== 'Asia/Kathmandu') expect(found.length).toBeGreaterThan(0);
      const instants: number[] = [];
      for (const c of found) for (const d of [-86_400_000, -3600e3, -900e3, -60e3, -1000, -1, 0, 1, 999, 1000, 60e3, 900e3, 3600e3, 86_400_000]) instants.push(c + d);
      const rand = random(22);
      for (let i = 0; i < 3000; i++) instants.push(from + Math.floor(rand() * (to - from)));
      // Out of time order: the table's days are filled as they are asked for.
      for (let i = instants.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [instants[i], instants[j]] = [instants[j]!, instants[i]!];
      }
      const wrong = instants.filter((t) => table.offset(t) !== ref(t)).map((t) => `${new Date(t).toISOString()}: ${table.offset(t)} ≠ ${ref(t)}`);
      expect(wrong).toEqual([]);
    });
  }

  it('the local zone (a policy without timezone) is Date’s own offset', () => {
    const table = new ZoneOffsets(undefined);
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 3600e3 * 7) expect(table.offset(t)).toBe(0 - new Date(t).getTimezoneOffset() || 0);
  });
});

describe('NightPlan across a DST change', () => {
  // Window 01:00-05:00 Berlin time. On 2026-10-25 clocks go back at 03:00 CEST (01:00 UTC) to 02:00 CET.
  const plan = new NightPlan({ window: ['01:00-05:00'], timezone: 'Europe/Berlin' });
  const day = (iso: string) => Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);

  it('sessions on either side of the change belong to the night that ends that morning; the clock shows Berlin time', () => {
    const before = Date.parse('2026-10-24T23:30:00Z'); // 01:30 CEST
    const after = Date.parse('2026-10-25T01:30:00Z'); // 02:30 CET
    const late = Date.parse('2026-10-25T03:59:00Z'); // 04:59 CET
    for (const t of [before, after, late]) expect(plan.night(t)).toBe(day('2026-10-25'));
    expect([plan.clock(before), plan.clock(after), plan.clock(late)]).toEqual(['01:30', '02:30', '04:59']);
    // The slot starts in the middle of the 20 hours outside the window (15:00 local): 15:00 CET is 14:00 UTC.
    expect(plan.anchor).toBe(15 * 60);
    expect(plan.night(Date.parse('2026-10-25T13:59:59Z'))).toBe(day('2026-10-25'));
    expect(plan.night(Date.parse('2026-10-25T14:00:00Z'))).toBe(day('2026-10-26'));
  });

  it('in spring the slot boundary moves with the clock: 15:00 CEST is 13:00 UTC', () => {
    expect(plan.night(Date.parse('2026-03-29T12:59:59Z'))).toBe(day('2026-03-29'));
    expect(plan.night(Date.parse('2026-03-29T13:00:00Z'))).toBe(day('2026-03-30'));
    expect(plan.night(Date.parse('2026-03-28T13:59:59Z'))).toBe(day('2026-03-28'));
    expect(plan.night(Date.parse('2026-03-28T14:00:00Z'))).toBe(day('2026-03-29'));
    expect(plan.clock(Date.parse('2026-03-29T01:30:00Z'))).toBe('03:30');
  });
});

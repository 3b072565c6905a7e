// A time zone's offset from UTC at any instant, for the report's nights,
// without time-zone work per record. window.ts's wallClock answers for a
// policy's zone by setting process.env.TZ, which makes V8 drop its zone
// cache and load the zone again: per record (or per quarter hour and
// policy, as the report did) that was most of a report over policies with a
// `timezone` (9.7 s instead of 2.6 s for 200,000 records and 40 zoned
// policies). Here each zone has a table of UTC days: the offset at the
// day's start and at its end, asked of Intl once each, and where they
// differ the instant of the change, found to the second by bisection. Every
// change in the zone database is at a whole second, so the answer is exact
// for any day with at most one change (all of them in practice; a day whose
// end does not match what the bisection found is asked of Intl per instant).
// The local zone (a policy without `timezone`) is Date's own, as wallClock's.

const DAY = 86_400_000;

interface Day {
  before: number;
  after: number;
  /** The first instant with `after` (NaN: no change that day; -1: irregular, ask every time). */
  at: number;
}

/** Days kept per zone before the table starts again (a report spans at most 366 nights, plus history). */
const MAX_DAYS = 20_000;

export class ZoneOffsets {
  private readonly days = new Map<number, Day>();
  private lastDay = Number.NaN;
  private last: Day | null = null;
  private readonly parts: Intl.DateTimeFormat | null;

  /** zone: an IANA name (validated by the policy schema), or undefined for the local zone. */
  constructor(readonly zone: string | undefined) {
    this.parts =
      zone === undefined
        ? null
        : new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  }

  /** Minutes east of UTC at t, asked of Intl (or Date, for the local zone) directly: the reference the table must match. */
  probe(t: number): number {
    if (this.parts === null) return 0 - Math.round(new Date(t).getTimezoneOffset()) || 0;
    const f: Record<string, number> = {};
    for (const p of this.parts.formatToParts(t)) if (p.type !== 'literal') f[p.type] = Number(p.value);
    const local = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
    return Math.round((local - t) / 60_000) || 0;
  }

  /** Minutes east of UTC at t. */
  offset(t: number): number {
    const d = Math.floor(t / DAY);
    let day = d === this.lastDay ? this.last! : this.days.get(d);
    if (day === undefined) {
      day = this.measure(d);
      if (this.days.size >= MAX_DAYS) this.days.clear();
      this.days.set(d, day);
    }
    this.lastDay = d;
    this.last = day;
    if (Number.isNaN(day.at)) return day.before;
    if (day.at === -1) return this.probe(t);
    return t >= day.at ? day.after : day.before;
  }

  private measure(d: number): Day {
    const start = d * DAY;
    const before = this.probe(start);
    const after = this.probe(start + DAY);
    if (before === after) return { before, after, at: Number.NaN };
    // Bisect in whole seconds: probe(lo) is `before`, probe(hi) is not.
    let lo = start;
    let hi = start + DAY;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.probe(mid) === before) lo = mid;
      else hi = mid;
    }
    return { before, after, at: this.probe(hi) === after ? hi : -1 };
  }
}

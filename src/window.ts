// Backup windows: the policy keys `window` (wall-clock ranges "HH:MM-HH:MM")
// and `timezone` (an IANA name; default the server's local zone). Pure: the
// time is always passed in. The schema validates with rangeProblem and
// isTimeZone; decide() asks windowRefusal; `check --at` reads its TIME with
// parseAt.
//
// Semantics (docs/policies.md says the same for the admin):
// - A range includes its start minute and excludes its end: 01:00-05:00
//   allows 01:00:00 up to 04:59:59. "24:00" may end a range (end of day).
// - End before start crosses midnight: 22:00-06:00 is 22:00 to 05:59:59.
// - Start equal to end (02:00-02:00) is refused by the schema: a zero-length
//   window is most likely a mistake, and a whole day is "no window".
// - Matching is on the wall-clock time in the zone, as a clock on the wall
//   shows it. When daylight saving skips an hour, an edge inside it takes
//   effect when the clock jumps past it; when an hour repeats, the range's
//   part in it applies on both passes.
//
// How the wall clock is read. Intl.DateTimeFormat is the obvious way, but
// constructing one costs the gate tens of milliseconds and ~8 MiB (ICU's
// locale and pattern machinery, whatever the zone). Date's local time reads
// the same ICU zone data for the zone named by TZ, in about a millisecond:
// so the decision sets TZ to the policy's zone for the moment it reads the
// clock, and puts it back. Where Date falls back to UTC for a name it does
// not know (Intl also takes "europe/berlin"), the schema refuses the name:
// isTimeZone accepts a zone only when both agree on it. Intl is used only
// there, when a policy is validated; the gate's path with a policy without
// window reads no local time at all.

/** One range, in minutes since midnight: start inclusive, end exclusive (1..1440). */
export interface Range {
  start: number;
  end: number;
}

const HHMM = '(?:[01]\\d|2[0-3]):[0-5]\\d';
/** The form of one `window` entry (also the JSON Schema's pattern). */
export const RANGE_PATTERN = `^${HHMM}-(?:${HHMM}|24:00)$`;
const RANGE_RE = new RegExp(RANGE_PATTERN);

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The range "HH:MM-HH:MM", or null when it is malformed or empty. */
export function parseRange(text: string): Range | null {
  if (!RANGE_RE.test(text)) return null;
  const start = minutes(text.slice(0, 5));
  const end = minutes(text.slice(6, 11));
  return start === end ? null : { start, end };
}

/** Why a `window` entry is not valid, or null when it is. */
export function rangeProblem(text: string): string | null {
  if (!RANGE_RE.test(text)) return `"${text}" is not a range HH:MM-HH:MM of wall-clock time (00:00 to 23:59, and 24:00 as an end)`;
  if (parseRange(text) === null) return `"${text}" starts where it ends: a zero-length window allows nothing (for the whole day, leave out "window")`;
  return null;
}

/** Whether minute-of-day `m` (0..1439) falls in the range. */
export function inRange(m: number, r: Range): boolean {
  return r.start < r.end ? m >= r.start && m < r.end : m >= r.start || m < r.end;
}

/**
 * Whether `name` is a time zone (an IANA name such as Europe/Berlin, or UTC)
 * that Intl knows and that wallClock reads the same way: compared at
 * instants in winter and summer, years apart. For the schema only.
 */
export function isTimeZone(name: string): boolean {
  // Intl also takes offsets such as "+01:00" on newer Node versions: not a zone name, and not on every Node we run on.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
  } catch {
    return false;
  }
  // "europe/berlin" is one to Intl; Date, not knowing it, would read UTC.
  return [Date.UTC(2026, 0, 15, 12), Date.UTC(2026, 6, 15, 12), Date.UTC(2036, 0, 15, 12), Date.UTC(2036, 6, 15, 12)].every((t) => {
    const p: Record<string, number> = {};
    for (const x of f.formatToParts(t)) if (x.type !== 'literal') p[x.type] = Number(x.value);
    const w = wallClock(t, name);
    return p.year === w.year && p.month === w.month && p.day === w.day && p.hour === w.hour && p.minute === w.minute;
  });
}


/** What a clock on the wall in a zone shows at an instant. */
export interface WallClock {
  /** The zone's name; for the server's own zone, TZ when set, else "the server's local time zone". */
  zone: string;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Minutes east of UTC at that instant. */
  offset: number;
}

/** The wall-clock time in `zone` (undefined: the server's local zone) at `time` (ms since the epoch). */
export function wallClock(time: number, zone: string | undefined): WallClock {
  const env = process.env;
  const saved = env.TZ;
  // Node resets V8's zone cache when TZ is assigned or deleted.
  const swap = zone !== undefined && saved !== zone;
  if (swap) env.TZ = zone;
  try {
    const d = new Date(time);
    return {
      zone: zone ?? (saved || "the server's local time zone"),
      year: d.getFullYear(),
      month: d.getMonth() + 1,
      day: d.getDate(),
      hour: d.getHours(),
      minute: d.getMinutes(),
      second: d.getSeconds(),
      offset: 0 - Math.round(d.getTimezoneOffset()) || 0,
    };
  } finally {
    if (swap) {
      if (saved === undefined) delete env.TZ;
      else env.TZ = saved;
    }
  }
}

const two = (n: number) => String(n).padStart(2, '0');

/** "UTC+01:00", "UTC-04:00". */
export function formatOffset(offset: number): string {
  const a = Math.abs(offset);
  return `UTC${offset < 0 ? '-' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

/** "2026-03-29 03:05 (UTC+02:00)". */
export function formatWallClock(w: WallClock): string {
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)} (${formatOffset(w.offset)})`;
}

/**
 * Null when `time` falls in one of the windows; otherwise the refusal's
 * reason, naming the windows and the time it is in the zone.
 */
export function windowRefusal(windows: readonly string[], zone: string | undefined, time: number): string | null {
  const w = wallClock(time, zone);
  const m = w.hour * 60 + w.minute;
  // Entries were validated by the schema; one that does not parse matches nothing (fail closed).
  if (windows.some((text) => {
    const r = parseRange(text);
    return r !== null && inRange(m, r);
  })) return null;
  const plural = windows.length === 1 ? 'window' : 'windows';
  return `outside this policy's backup ${plural} ${windows.join(', ')} (${w.zone}): it is now ${formatWallClock(w)} there`;
}

/** A TIME for `check --at`: the instant, or why it is not one. */
export type AtTime = { ok: true; time: number } | { ok: false; reason: string };

const AT_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * Read an ISO 8601 date and time: 2026-12-02T03:30, with seconds and
 * fractions optional, and an offset (Z, +01:00, -0500). Without an offset
 * the time is wall-clock time in `zone` (the policy's zone: the one its
 * windows are written in); a time that zone skips or repeats (daylight
 * saving) needs an offset to say which instant is meant.
 */
export function parseAt(text: string, zone: string | undefined): AtTime {
  const m = AT_RE.exec(text.trim());
  const form = 'give a date and time in ISO 8601, e.g. 2026-12-02T03:30, 2026-12-02T03:30:00+01:00 or 2026-12-02T02:30Z';
  if (!m) return { ok: false, reason: `"${text}" is not a date and time: ${form}` };
  const [, y, mo, d, h, mi, s = '0', frac = '', z, sign, oh, om = '00'] = m;
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]);
  const back = new Date(local);
  if (
    fields[1] < 1 || fields[1] > 12 || fields[3] > 23 || fields[4] > 59 || fields[5] > 59 ||
    back.getUTCFullYear() !== fields[0] || back.getUTCMonth() !== fields[1] - 1 || back.getUTCDate() !== fields[2]
  ) {
    return { ok: false, reason: `"${text}" is not a valid date and time: ${form}` };
  }
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  if (z) return { ok: true, time: local + ms };
  if (sign) {
    if (Number(oh) > 23 || Number(om) > 59) return { ok: false, reason: `"${text}" has an invalid UTC offset ${sign}${oh}:${om}: ${form}` };
    const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
    return { ok: true, time: local - offset * 60000 + ms };
  }
  // Wall-clock time in the zone: every instant within a day of it whose clock shows these fields.
  const offsets = new Set([-1, 0, 1].map((k) => wallClock(local + k * 86_400_000, zone).offset));
  const matches = [...offsets]
    .map((o) => local - o * 60000)
    .filter((t) => {
      const w = wallClock(t, zone);
      return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) === local;
    })
    .sort((a, b) => a - b);
  const name = wallClock(local, zone).zone;
  if (matches.length === 0) return { ok: false, reason: `${text} does not exist in ${name}: the clocks skip it (daylight saving); give a UTC offset` };
  if (matches.length > 1) {
    const which = matches.map((t) => formatOffset(wallClock(t, zone).offset).slice(3)).join(' or ');
    return { ok: false, reason: `${text} happens twice in ${name} (the clocks go back): give the UTC offset, ${which}` };
  }
  return { ok: true, time: matches[0]! + ms };
}

// authorized_keys' expiry-time="…": what sshd reads, what `install --expires`
// accepts, and the one form we write. Pure: the current time is a fact the
// caller passes in.
//
// sshd reads the value with misc.c's parse_absolute_time(): YYYYMMDD,
// YYYYMMDDHHMM or YYYYMMDDHHMMSS, each optionally followed by `Z` or `UTC`
// (case-insensitive) for UTC, otherwise local time (mktime, sshd's TZ). The
// fields go through strptime (%Y %m %d %H %M %S) and mktime/timegm, which
// normalise an out-of-range day (Feb 31 is Mar 3); a time before 1970, or the
// epoch itself, is "invalid expires time" and sshd rejects the whole line
// (auth-options.c). Several expiry-time options: the earliest counts. A key
// is refused once the expiry is in the past (valid_before < now): it still
// works during the second it names.
//
// We always write UTC with `Z` (YYYYMMDDHHMMSSZ), so what the line means does
// not depend on sshd's time zone.

export interface ExpiryFact {
  /** The current time, in milliseconds since the epoch (Date.now() at the edge). */
  now: number;
}

/** Seconds per unit of a relative time: ssh-keygen's convtime() units. */
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Field ranges of glibc's strptime for the conversions sshd uses. */
function fieldsOk(mo: number, d: number, h: number, mi: number, s: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 61;
}

/** Epoch seconds of broken-down time, as timegm (utc) or mktime (local) would normalise it. */
function toEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, utc: boolean): number {
  const ms = utc ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  // Date.UTC maps years 0-99 to 1900-1999; both are before 1970 and refused below either way.
  return Math.floor(ms / 1000);
}

/**
 * The expiry sshd reads from an expiry-time value: epoch seconds, or an error
 * (sshd then rejects the whole authorized_keys line).
 */
export function parseOpenSshTime(value: string): { epoch: number } | { error: string } {
  let s = value;
  let utc = false;
  if (s.length > 1 && /z$/i.test(s)) {
    utc = true;
    s = s.slice(0, -1);
  } else if (s.length > 3 && /utc$/i.test(s)) {
    utc = true;
    s = s.slice(0, -3);
  }
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$/.exec(s);
  if (!m) return { error: `expiry-time ${JSON.stringify(value)} is not YYYYMMDD[HHMM[SS]][Z]` };
  const [y, mo, d, h, mi, sec] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number, number, number, number];
  if (!fieldsOk(mo, d, h, mi, sec)) return { error: `expiry-time ${JSON.stringify(value)} is not a valid date and time` };
  const epoch = toEpoch(y, mo, d, h, mi, sec, utc);
  if (!(epoch > 0)) return { error: `expiry-time ${JSON.stringify(value)} is not after 1970-01-01` };
  return { epoch };
}

/** The form we write: YYYYMMDDHHMMSSZ, UTC. */
export function formatOpenSshTime(epoch: number): string {
  const iso = new Date(epoch * 1000).toISOString(); // 2026-12-07T09:15:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** ISO 8601 (UTC, seconds) for people and JSON. */
export const isoTime = (epoch: number): string => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * What `--expires WHEN` means, in epoch seconds: relative (`+90s`, `+30m`,
 * `+4h`, `+7d`, `+2w`, or a sum such as `+1d12h`) from the current time;
 * OpenSSH's own form (local time unless it ends in Z/UTC, as sshd reads it);
 * or ISO 8601 (`2027-01-31`, `2027-01-31T18:00`, `…:00Z`, `…+02:00`; local
 * time without an offset). Refuses a time that is not in the future.
 */
export function parseExpires(when: string, fact: ExpiryFact): { epoch: number } | { error: string } {
  const nowS = Math.floor(fact.now / 1000);
  const w = when.trim();
  let epoch: number;
  if (w.startsWith('+')) {
    const parts = [...w.slice(1).matchAll(/(\d+)([smhdw])/gi)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== w.slice(1)) return { error: `--expires ${when}: a relative time is +N followed by s, m, h, d or w (e.g. +90s, +4h, +7d, +1d12h)` };
    const secs = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!.toLowerCase()]!, 0);
    epoch = nowS + secs;
  } else if (/^\d{8}/.test(w)) {
    const r = parseOpenSshTime(w);
    if ('error' in r) return { error: `--expires ${when}: ${r.error}` };
    epoch = r.epoch;
  } else {
    const m = ISO.exec(w);
    if (!m) return { error: `--expires ${when}: not a time (use +4h, +7d, YYYYMMDD[HHMM[SS]][Z] or ISO 8601 such as 2027-01-31T18:00Z)` };
    const [y, mo, d, h, mi, sec] = m.slice(1, 7).map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number, number, number, number];
    // ISO 8601 has no Feb 31 and no second 61: stricter than strptime.
    const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
    if (!fieldsOk(mo, d, h, mi, sec) || sec > 59 || probe.getUTCDate() !== d || probe.getUTCMonth() !== mo - 1) return { error: `--expires ${when}: not a valid date and time` };
    const zone = m[7];
    if (zone === undefined) epoch = toEpoch(y, mo, d, h, mi, sec, false);
    else {
      const base = toEpoch(y, mo, d, h, mi, sec, true);
      if (/^z$/i.test(zone)) epoch = base;
      else {
        const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
        const off = (Number(z[2]) * 60 + Number(z[3])) * 60;
        if (Number(z[2]) > 23 || Number(z[3]) > 59) return { error: `--expires ${when}: not a valid UTC offset` };
        epoch = z[1] === '+' ? base - off : base + off;
      }
    }
  }
  if (!Number.isSafeInteger(epoch) || epoch >= Date.UTC(10000, 0, 1) / 1000) return { error: `--expires ${when}: too far ahead (OpenSSH writes years with four digits)` };
  if (epoch <= nowS) return { error: `--expires ${when}: ${isoTime(epoch)} is not in the future (now ${isoTime(nowS)})` };
  return { epoch };
}

/**
 * The expiry of an authorized_keys line's options, as sshd applies it: the
 * earliest of its expiry-time values; null when there is none. An
 * unparseable value makes the whole line invalid (the parser reports it), so
 * here it is an error.
 */
export function lineExpiry(options: readonly { name: string; value: string | null }[]): { epoch: number } | { error: string } | null {
  let earliest: number | null = null;
  for (const o of options) {
    if (o.name.toLowerCase() !== 'expiry-time' || o.value === null) continue;
    const r = parseOpenSshTime(o.value);
    if ('error' in r) return r;
    if (earliest === null || r.epoch < earliest) earliest = r.epoch;
  }
  return earliest === null ? null : { epoch: earliest };
}

/** sshd refuses the key: its expiry is in the past (auth-options.c: valid_before < now). */
export const isExpired = (epoch: number, fact: ExpiryFact): boolean => epoch < Math.floor(fact.now / 1000);

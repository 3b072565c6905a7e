// The record's time, ISO 8601 in UTC with milliseconds, exactly as
// Date.prototype.toISOString writes it, but without a Date: V8 initialises
// the local time zone on the first Date it makes (reading /etc/localtime and
// following its symlinks, ~0.25 ms), which the gate does not otherwise need.

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `ms` since the epoch as toISOString() writes it, for years 0000-9999. */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < -62167219200000 || ms > 253402300799999) return new Date(ms).toISOString();
  const day = Math.floor(ms / 86400000);
  let rest = ms - day * 86400000;
  const hour = Math.floor(rest / 3600000);
  rest -= hour * 3600000;
  const minute = Math.floor(rest / 60000);
  rest -= minute * 60000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  // Days to a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const date = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(date, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(milli, 3)}Z`;
}

/** Now, as isoTime writes it. */
export const isoNow = (): string => isoTime(Date.now());

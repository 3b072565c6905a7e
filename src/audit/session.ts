// The gate's session ids, 16 lowercase hex digits (8 random bytes), as two
// 32-bit numbers: what the duplicate window (seen.ts) and the summary's
// last success (views/summary.ts) keep instead of a string per record. A
// string held by a long-lived object outlives two scavenges and is promoted;
// replaced by the next record's, it is old-generation garbage (10 MB over
// 1,000,000 records for the last success alone). Numbers in an object's
// field are stored in place.

/** A lowercase hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The halves of the last session hexHalves() read. */
export const halves = { hi: 0, lo: 0 };

/** Whether s is 16 lowercase hex digits; if so, its halves are in `halves` (no object per call). */
export function hexHalves(s: string): boolean {
  if (s.length !== 16) return false;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 16; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return false;
    if (i < 8) hi = (hi << 4) | d;
    else lo = (lo << 4) | d;
  }
  halves.hi = hi;
  halves.lo = lo;
  return true;
}

/** Hex digits' character codes. */
const DIGIT = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];

/** The session text of two halves: hexHalves' inverse (one flat string, made at once: a split report makes one per record). */
export function hexSession(hi: number, lo: number): string {
  const d = DIGIT;
  return String.fromCharCode(
    d[(hi >>> 28) & 15]!, d[(hi >>> 24) & 15]!, d[(hi >>> 20) & 15]!, d[(hi >>> 16) & 15]!, d[(hi >>> 12) & 15]!, d[(hi >>> 8) & 15]!, d[(hi >>> 4) & 15]!, d[hi & 15]!,
    d[(lo >>> 28) & 15]!, d[(lo >>> 24) & 15]!, d[(lo >>> 20) & 15]!, d[(lo >>> 16) & 15]!, d[(lo >>> 12) & 15]!, d[(lo >>> 8) & 15]!, d[(lo >>> 4) & 15]!, d[lo & 15]!,
  );
}

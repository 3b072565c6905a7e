// Records already read, by host, session and event: a session has one
// decision record and at most one exit record, so a second one is a copy
// (rsyslog's forwarding delivers at least once; the same records may also
// arrive through two files). Bounded: the last SEEN_WINDOW records that were
// not copies are remembered, the oldest forgotten first.
//
// It is asked once per record. A Set of session strings was 12-14% of
// --summary's time (a fresh string from JSON.parse is hashed on every
// lookup) and kept 100,000 strings alive in the old generation. The gate's
// sessions are 16 lowercase hex digits (8 random bytes): such a session is
// exactly two 32-bit numbers, kept with its host and event in typed arrays
// and found through an open-addressing table of our own. Any other session
// text (an older or foreign writer) goes to a Set per host and event, as
// before; both kinds share one window.
import { EVENTS } from '../log/record.js';
import type { AuditRecord } from './join/transfer.js';

/** How many recent records SeenRecords remembers; a duplicate comes soon after its original. */
export const SEEN_WINDOW = 100_000;

const EVENT_INDEX: ReadonlyMap<string, number> = new Map(EVENTS.map((e, i) => [e, i]));
const EVENT_SLOTS = 8;

/** A lowercase hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export class SeenRecords {
  duplicates = 0;
  /** Hosts by number: the tag of a key is host × EVENT_SLOTS + event. */
  private readonly hosts = new Map<string, number>();
  /** Open addressing, linear probing: ring slot + 1, or 0 for empty. At most half full. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  /** The window, a ring: a hex key's tag (-1 for a slot holding another kind, or nothing) and its two halves. */
  private readonly tags: Int32Array;
  private readonly his: Int32Array;
  private readonly los: Int32Array;
  /** Sessions of any other text, by tag; the ring slot remembers which set and which string it added. */
  private readonly others = new Map<number, Set<string>>();
  private readonly ringSets: (Set<string> | undefined)[];
  private readonly ringKeys: (string | undefined)[];
  private next = 0;

  constructor(private readonly window = SEEN_WINDOW) {
    let bits = 4;
    while (1 << bits < window * 2) bits++;
    this.table = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.tags = new Int32Array(window).fill(-1);
    this.his = new Int32Array(window);
    this.los = new Int32Array(window);
    this.ringSets = new Array(window);
    this.ringKeys = new Array(window);
  }

  repeated(r: AuditRecord): boolean {
    const host = r.hostname ?? '';
    let h = this.hosts.get(host);
    if (h === undefined) this.hosts.set(host, (h = this.hosts.size));
    const tag = h * EVENT_SLOTS + EVENT_INDEX.get(r.event)!;
    const s = r.session;
    let hi = 0;
    let lo = 0;
    let hex = s.length === 16;
    for (let i = 0; hex && i < 16; i++) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) hex = false;
      else if (i < 8) hi = (hi << 4) | d;
      else lo = (lo << 4) | d;
    }
    if (hex) {
      if (this.find(tag, hi, lo) >= 0) {
        this.duplicates++;
        return true;
      }
      const slot = this.take();
      this.tags[slot] = tag;
      this.his[slot] = hi;
      this.los[slot] = lo;
      let i = this.home(tag, hi, lo);
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = slot + 1;
      return false;
    }
    let sessions = this.others.get(tag);
    if (!sessions) this.others.set(tag, (sessions = new Set()));
    if (sessions.has(s)) {
      this.duplicates++;
      return true;
    }
    sessions.add(s);
    const slot = this.take();
    this.ringSets[slot] = sessions;
    this.ringKeys[slot] = s;
    return false;
  }

  /** The next ring slot, its old key forgotten. */
  private take(): number {
    const slot = this.next;
    this.next = slot + 1 === this.window ? 0 : slot + 1;
    const tag = this.tags[slot]!;
    if (tag >= 0) {
      this.remove(this.find(tag, this.his[slot]!, this.los[slot]!));
      this.tags[slot] = -1;
    } else {
      const set = this.ringSets[slot];
      if (set) {
        set.delete(this.ringKeys[slot]!);
        this.ringSets[slot] = undefined;
        this.ringKeys[slot] = undefined;
      }
    }
    return slot;
  }

  private home(tag: number, hi: number, lo: number): number {
    return Math.imul(lo ^ Math.imul(hi ^ Math.imul(tag, 0x27d4eb2d), 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The table index holding this key, or -1. */
  private find(tag: number, hi: number, lo: number): number {
    for (let i = this.home(tag, hi, lo); ; i = (i + 1) & this.mask) {
      const v = this.table[i]!;
      if (v === 0) return -1;
      const slot = v - 1;
      if (this.los[slot] === lo && this.his[slot] === hi && this.tags[slot] === tag) return i;
    }
  }

  /** Empty table index i, moving back the entries after it that would no longer be found (backward-shift deletion). */
  private remove(i: number): void {
    const table = this.table;
    table[i] = 0;
    for (let j = (i + 1) & this.mask; table[j] !== 0; j = (j + 1) & this.mask) {
      const slot = table[j]! - 1;
      const k = this.home(this.tags[slot]!, this.his[slot]!, this.los[slot]!);
      // An entry whose home lies cyclically in (i, j] is found from there still; any other moves into the gap.
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      table[i] = table[j]!;
      table[j] = 0;
      i = j;
    }
  }
}

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
import { halves, hexHalves } from './session.js';

/** How many recent records SeenRecords remembers; a duplicate comes soon after its original. */
export const SEEN_WINDOW = 100_000;

const EVENT_INDEX: ReadonlyMap<string, number> = new Map(EVENTS.map((e, i) => [e, i]));
const EVENT_SLOTS = 8;

/** A window's first keys (SeenRecords.first), compact: typed arrays a structured clone copies whole. */
export interface FirstKeys {
  /** The window's hosts, by its own numbers. */
  hosts: string[];
  count: number;
  /** Per key: host number × EVENT_SLOTS + event; bitwise negated when the session is not hex. */
  tags: Int32Array;
  /** A hex session's halves. */
  his: Int32Array;
  los: Int32Array;
  /** Any other session's text, by key index. */
  others: Map<number, string>;
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

  constructor(
    private readonly window = SEEN_WINDOW,
    private readonly keep = 0,
  ) {
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
    this.firstTags = new Int32Array(keep);
    this.firstHis = new Int32Array(keep);
    this.firstLos = new Int32Array(keep);
  }

  /** The key's halves, when its session is hex (set by key()). */
  private hi = 0;
  private lo = 0;

  /** The tag of (host, event), with the session's halves in hi and lo; -1 when the session is not hex. */
  private key(host: string, event: string, s: string): number {
    let h = this.hosts.get(host);
    if (h === undefined) this.hosts.set(host, (h = this.hosts.size));
    const tag = h * EVENT_SLOTS + EVENT_INDEX.get(event)!;
    if (!hexHalves(s)) return ~tag;
    this.hi = halves.hi;
    this.lo = halves.lo;
    return tag;
  }

  /**
   * Whether the window holds any of another window's first keys (nothing is
   * added): the split read's check at its seam (read/split.ts).
   */
  knowsAny(first: FirstKeys): boolean {
    for (let i = 0; i < first.count; i++) {
      const theirs = first.tags[i]!;
      const t = theirs >= 0 ? theirs : ~theirs;
      const h = this.hosts.get(first.hosts[Math.floor(t / EVENT_SLOTS)]!);
      if (h === undefined) continue;
      const tag = h * EVENT_SLOTS + (t % EVENT_SLOTS);
      if (theirs >= 0 ? this.find(tag, first.his[i]!, first.los[i]!) >= 0 : this.others.get(tag)?.has(first.others.get(i)!) === true) return true;
    }
    return false;
  }

  repeated(r: AuditRecord): boolean {
    const host = r.hostname ?? '';
    const s = r.session;
    const tag = this.key(host, r.event, s);
    if (tag >= 0) {
      const { hi, lo } = this;
      if (this.find(tag, hi, lo) >= 0) {
        this.duplicates++;
        return true;
      }
      this.remember(tag, s);
      const slot = this.take();
      this.tags[slot] = tag;
      this.his[slot] = hi;
      this.los[slot] = lo;
      let i = this.home(tag, hi, lo);
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = slot + 1;
      return false;
    }
    let sessions = this.others.get(~tag);
    if (!sessions) this.others.set(~tag, (sessions = new Set()));
    if (sessions.has(s)) {
      this.duplicates++;
      return true;
    }
    this.remember(tag, s);
    sessions.add(s);
    const slot = this.take();
    this.ringSets[slot] = sessions;
    this.ringKeys[slot] = s;
    return false;
  }

  /** The first `keep` keys that were not copies, in order (the second part of a split read reports them). */
  get first(): FirstKeys {
    const n = this.firstCount;
    return { hosts: [...this.hosts.keys()], count: n, tags: this.firstTags.slice(0, n), his: this.firstHis.slice(0, n), los: this.firstLos.slice(0, n), others: this.firstOthers };
  }

  /** Whether the first `keep` keys are all known (after this, `first` does not change). */
  get firstComplete(): boolean {
    return this.firstCount >= this.keep;
  }

  private firstCount = 0;
  private readonly firstTags: Int32Array;
  private readonly firstHis: Int32Array;
  private readonly firstLos: Int32Array;
  private readonly firstOthers = new Map<number, string>();

  /** Note a key that was not a copy among the first `keep` (tag < 0: not hex, the session kept as text). */
  private remember(tag: number, session: string): void {
    const i = this.firstCount;
    if (i >= this.keep) return;
    this.firstCount++;
    this.firstTags[i] = tag;
    if (tag >= 0) {
      this.firstHis[i] = this.hi;
      this.firstLos[i] = this.lo;
    } else this.firstOthers.set(i, session);
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

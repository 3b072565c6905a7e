// The timeline's cells: one slot per row and night, in typed arrays shared by
// every row (the kind that decides the cell, its session's start and end,
// how many sessions of each kind came, the cell's text), instead of an object
// and a counts object per row × night. A row takes its block of `days` slots
// when its first cell is marked. Over 1,000,000 records (10,000 rows × 30
// nights, nearly all filled) that is 41 bytes a slot.

/** The kinds of session that can decide a cell, by priority (index + 1): a completed run outweighs a failed one that night, and so on. */
export const KINDS = ['refused', 'unknown', 'failed', 'running', 'completed'] as const;
export type Kind = (typeof KINDS)[number];
const PRIORITY: Record<Kind, number> = { refused: 1, unknown: 2, failed: 3, running: 4, completed: 5 };
/** The order the counts are named in a cell's label. */
const COUNT_ORDER: readonly Kind[] = ['completed', 'running', 'failed', 'unknown', 'refused'];

export interface Cell {
  kind: Kind;
  start: number;
  end: number | null;
  text: string;
  /** Sessions of each kind that night, in the label's order, kinds with none left out. */
  counts: [Kind, number][];
}

export class NightCells {
  private slots = 0;
  private used = 0;
  /** 0: no cell; else the deciding kind's priority. */
  private kind = new Uint8Array(0);
  private start = new Float64Array(0);
  /** NaN: no end logged. */
  private end = new Float64Array(0);
  /** KINDS.length counts per slot. */
  private counts = new Uint32Array(0);
  private text: string[] = [];

  constructor(readonly days: number) {}

  /** A block of `days` empty slots for a new row; returns its first slot. */
  block(): number {
    const base = this.used;
    this.used += this.days;
    if (this.used > this.slots) this.grow(Math.max(this.used, this.slots * 2, this.days * 64));
    return base;
  }

  private grow(slots: number): void {
    const copy = <A extends Uint8Array | Float64Array | Uint32Array>(a: A, make: (n: number) => A, per = 1): A => {
      const b = make(slots * per);
      b.set(a);
      return b;
    };
    this.kind = copy(this.kind, (n) => new Uint8Array(n));
    this.start = copy(this.start, (n) => new Float64Array(n));
    this.end = copy(this.end, (n) => new Float64Array(n));
    this.counts = copy(this.counts, (n) => new Uint32Array(n), KINDS.length);
    // Filled, not sized: an array with holes would turn into a dictionary.
    while (this.text.length < slots) this.text.push('');
    this.slots = slots;
  }

  /**
   * One session on the night in `slot`: it decides the cell when its kind has
   * a higher priority than the one deciding now, or the same and it is not
   * older; every session is counted.
   */
  mark(slot: number, kind: Kind, start: number, end: number | null, text: string): void {
    const p = PRIORITY[kind];
    const cur = this.kind[slot]!;
    if (cur === 0 || p > cur || (p === cur && start >= this.start[slot]!)) {
      this.kind[slot] = p;
      this.start[slot] = start;
      this.end[slot] = end === null ? Number.NaN : end;
      this.text[slot] = text;
    }
    this.counts[slot * KINDS.length + p - 1]!++;
  }

  /** The kind deciding the cell in `slot`, or null when nothing came that night. */
  kindAt(slot: number): Kind | null {
    const p = this.kind[slot]!;
    return p === 0 ? null : KINDS[p - 1]!;
  }

  cell(slot: number): Cell | null {
    const kind = this.kindAt(slot);
    if (kind === null) return null;
    const end = this.end[slot]!;
    const counts: [Kind, number][] = [];
    for (const k of COUNT_ORDER) {
      const n = this.counts[slot * KINDS.length + PRIORITY[k] - 1]!;
      if (n > 0) counts.push([k, n]);
    }
    return { kind, start: this.start[slot]!, end: Number.isNaN(end) ? null : end, text: this.text[slot]!, counts };
  }
}

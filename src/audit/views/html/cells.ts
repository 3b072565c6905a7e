// The timeline's cells: one slot per row and night, in typed arrays shared by
// every row (the kind that decides the cell, its session's start and end,
// how many sessions of each kind came, the cell's text), instead of an object
// and a counts object per row × night. A row takes its block of `days` slots
// when its first cell is marked; the arrays come in chunks of 256 rows,
// added as rows come, never copied. 41 bytes a slot: over 1,000,000 records
// (10,000 rows × 30 nights) 12 MB.

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

/** Rows per chunk of typed arrays: chunks are added, never grown, so there is no copy and no slack beyond one chunk. */
const CHUNK_ROWS = 256;

interface Chunk {
  /** 0: no cell; else the deciding kind's priority. */
  kind: Uint8Array;
  start: Float64Array;
  /** NaN: no end logged. */
  end: Float64Array;
  /** KINDS.length counts per slot. */
  counts: Uint32Array;
  text: string[];
}

export class NightCells {
  private readonly chunks: Chunk[] = [];
  private used = 0;
  private readonly per: number;

  constructor(readonly days: number) {
    this.per = CHUNK_ROWS * days;
  }

  /** A block of `days` empty slots for a new row; returns its first slot. */
  block(): number {
    const base = this.used;
    this.used += this.days;
    if (base % this.per === 0) {
      const n = this.per;
      // Filled, not sized: an array with holes would turn into a dictionary.
      this.chunks.push({ kind: new Uint8Array(n), start: new Float64Array(n), end: new Float64Array(n), counts: new Uint32Array(n * KINDS.length), text: new Array<string>(n).fill('') });
    }
    return base;
  }

  /**
   * One session on the night in `slot`: it decides the cell when its kind has
   * a higher priority than the one deciding now, or the same and it is not
   * older; every session is counted.
   */
  mark(slot: number, kind: Kind, start: number, end: number | null, text: string): void {
    const c = this.chunks[Math.floor(slot / this.per)]!;
    const i = slot % this.per;
    const p = PRIORITY[kind];
    const cur = c.kind[i]!;
    if (cur === 0 || p > cur || (p === cur && start >= c.start[i]!)) {
      c.kind[i] = p;
      c.start[i] = start;
      c.end[i] = end === null ? Number.NaN : end;
      c.text[i] = text;
    }
    c.counts[i * KINDS.length + p - 1]!++;
  }

  /** The kind deciding the cell in `slot`, or null when nothing came that night. */
  kindAt(slot: number): Kind | null {
    const p = this.chunks[Math.floor(slot / this.per)]!.kind[slot % this.per]!;
    return p === 0 ? null : KINDS[p - 1]!;
  }

  cell(slot: number): Cell | null {
    const kind = this.kindAt(slot);
    if (kind === null) return null;
    const c = this.chunks[Math.floor(slot / this.per)]!;
    const i = slot % this.per;
    const end = c.end[i]!;
    const counts: [Kind, number][] = [];
    for (const k of COUNT_ORDER) {
      const n = c.counts[i * KINDS.length + PRIORITY[k] - 1]!;
      if (n > 0) counts.push([k, n]);
    }
    return { kind, start: c.start[i]!, end: Number.isNaN(end) ? null : end, text: c.text[i]!, counts };
  }
}

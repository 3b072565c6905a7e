// Families of files → one stream of items in time order.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { linesOf } from './lines.js';
import { parseLine, type ParsedLine, type SkipReason } from './parse.js';
import { parseTransferLine, type TransferLine } from '../join/transfer.js';
import type { Family } from './sources.js';

export type Item =
  | { t: number; parsed: ParsedLine; line?: never }
  | { t: number; line: TransferLine; parsed?: never }
  /** A record the filter cannot show, dropped unparsed (prefilter.ts), kept only for its place in the merge. */
  | { t: number; parsed?: never; line?: never };

/** Lines recordItems may drop unparsed: their time, or NaN to parse them (prefilter.ts); `keepPlace` when they must still take their place in a merge. */
export interface Unshown {
  time: (line: string) => number;
  keepPlace: boolean;
}

/** Lines skipped per file and why; reported on stderr at the end. */
export class SkipCounter {
  readonly byFile = new Map<string, Map<string, number>>();

  add(file: string, reason: SkipReason | 'truncated-gzip' | 'unreadable', count = 1): void {
    if (count === 0) return;
    let reasons = this.byFile.get(file);
    if (!reasons) this.byFile.set(file, (reasons = new Map()));
    reasons.set(reason, (reasons.get(reason) ?? 0) + count);
  }

  /** Add another counter's (the second part of a split read): reasons new to a file after its own. */
  absorb(other: Map<string, Map<string, number>>): void {
    for (const [file, reasons] of other) for (const [reason, n] of reasons) this.add(file, reason as SkipReason, n);
  }

  get total(): number {
    let n = 0;
    for (const reasons of this.byFile.values()) for (const c of reasons.values()) n += c;
    return n;
  }

  /** One line per file, e.g. `skipped 3 lines in /var/log/x.log: 2 not-json, 1 other-version`. */
  report(): string[] {
    const out: string[] = [];
    for (const [file, reasons] of this.byFile) {
      const lines = [...reasons].filter(([r]) => r !== 'truncated-gzip' && r !== 'unreadable');
      const n = lines.reduce((a, [, c]) => a + c, 0);
      if (n > 0) out.push(`skipped ${n} line${n === 1 ? '' : 's'} in ${file}: ${lines.map(([r, c]) => `${c} ${r}`).join(', ')}`);
      if (reasons.has('truncated-gzip')) out.push(`${file}: compressed data ends early (truncated or corrupt gzip); read what was there`);
      if (reasons.has('unreadable')) out.push(`${file}: could not be read to the end`);
    }
    return out;
  }
}

export type Opener = (file: string) => AsyncIterable<Buffer>;

export const openFile: Opener = (file) => (file === '-' ? (process.stdin as Readable as AsyncIterable<Buffer>) : fileChunks(file));

const CHUNK = 1 << 16;
const YIELD_EVERY = 16;

/**
 * A regular file's bytes, read synchronously, a fresh buffer per chunk (the
 * gunzip stream may still hold the last one). A stream's reads run on the
 * thread pool and the parser waits for each (6-8% of the time idle in the
 * profile); audit reads only regular files (run.ts and sources.ts check), so
 * a read never blocks on a writer.
 */
export async function* fileChunks(file: string, start = 0, end = Number.POSITIVE_INFINITY): AsyncGenerator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    for (let chunk = 1, at = start; at < end; chunk++) {
      // Synchronous reads and awaits of settled promises never let the event
      // loop turn: every 1 MiB, let it, so that a signal, a timer, or stdout's
      // EPIPE (`audit … | head`) is seen while a big file is still being read.
      if (chunk % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const want = Math.min(CHUNK, end - at);
      const buf = Buffer.allocUnsafe(want);
      const n = readSync(fd, buf, 0, want, at);
      if (n === 0) return;
      at += n;
      yield n === want ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** The gate's records from one family of files, in batches. */
export async function* recordItems(family: Family, skips: SkipCounter, open: Opener = openFile, unshown?: Unshown): AsyncGenerator<Item[]> {
  for (const file of family.files) {
    try {
      for await (const batch of linesOf(open(file))) {
        skips.add(file, 'too-long', batch.tooLong);
        const items: Item[] = [];
        for (const line of batch.lines) {
          if (line.length === 0) continue;
          if (unshown) {
            const t = unshown.time(line);
            if (t === t) {
              if (unshown.keepPlace) items.push({ t });
              continue;
            }
          }
          const parsed = parseLine(line);
          if (typeof parsed === 'string') skips.add(file, parsed);
          else items.push({ t: parsed.t, parsed });
        }
        if (items.length > 0) yield items;
      }
    } catch (err) {
      // A damaged file ends its own reading, not the audit (run.ts checks up front that named files exist).
      skips.add(file, isZlibError(err) ? 'truncated-gzip' : 'unreadable');
    }
  }
}

const isZlibError = (err: unknown): boolean => String((err as NodeJS.ErrnoException).code ?? '').startsWith('Z_');

/** rsync's log-file lines from one family of files, in batches (other lines ignored). */
export async function* transferItems(family: Family, skips: SkipCounter, open: Opener = openFile): AsyncGenerator<Item[]> {
  for (const file of family.files) {
    try {
      for await (const batch of linesOf(open(file))) {
        const items: Item[] = [];
        for (const text of batch.lines) {
          const line = parseTransferLine(text);
          if (line && line.kind !== 'other') items.push({ t: line.t, line });
        }
        if (items.length > 0) yield items;
      }
    } catch (err) {
      skips.add(file, isZlibError(err) ? 'truncated-gzip' : 'unreadable');
    }
  }
}

/**
 * Merges time-ordered sources into one time-ordered stream of batches. One
 * source passes straight through (the common case, and the fast one).
 */
export async function* mergeByTime(sources: AsyncIterable<Item[]>[]): AsyncGenerator<Item[]> {
  if (sources.length === 1) {
    yield* sources[0]!;
    return;
  }
  const cursors = sources.map((s) => ({ it: s[Symbol.asyncIterator](), batch: [] as Item[], i: 0, done: false }));
  const refill = async (c: (typeof cursors)[number]): Promise<void> => {
    while (!c.done && c.i >= c.batch.length) {
      const next = await c.it.next();
      if (next.done) c.done = true;
      else {
        c.batch = next.value;
        c.i = 0;
      }
    }
  };
  await Promise.all(cursors.map(refill));
  let out: Item[] = [];
  for (;;) {
    let best: (typeof cursors)[number] | undefined;
    for (const c of cursors) {
      if (c.i < c.batch.length && (!best || c.batch[c.i]!.t < best.batch[best.i]!.t)) best = c;
    }
    if (!best) break;
    out.push(best.batch[best.i++]!);
    if (best.i >= best.batch.length) {
      if (out.length > 0) {
        yield out;
        out = [];
      }
      await refill(best);
    } else if (out.length >= 4096) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

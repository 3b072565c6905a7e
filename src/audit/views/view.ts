// What a view of `gatekeeper audit` is. run.ts reads the sources into records
// (read/), joins rsync's outcomes onto their sessions (join/), drops repeated
// records and applies the filter; then every record that passes goes, in time
// order, to the one chosen view. A view only sees records: it opens no file
// and writes nothing itself; run.ts writes what `finish` returns (to stdout,
// or atomically to --output). Memory should grow with the groups a view
// keeps, not with the log.
import type { AuditRecord } from '../join/transfer.js';
import type { Paint } from './format.js';

/** What a view is told once the records are in. */
export interface ViewContext {
  /** The time the answer is computed for (--now, or the clock), in ms. */
  now: number;
  /** --stale: a last success older than this is stale, in ms. */
  staleMs: number;
  /** --lookback: the window session counts cover, in ms. */
  lookbackMs: number;
  /** Colour for a terminal, or the identity. */
  paint: Paint;
  /** --json was given. */
  json: boolean;
}

export interface View {
  /** One record that passed the filter; `t` is its time in ms (the record's, or its carrier's). */
  add(record: AuditRecord, t: number): void;
  /** The whole output, or '' for none. */
  finish(ctx: ViewContext): string | Promise<string>;
}

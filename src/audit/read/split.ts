// `audit --summary` over one big log file on two CPUs.
//
// JSON.parse and the per-record work are the whole cost of a summary, and
// they run on one thread; jq does too. A plain (not gzip) log file of at
// least SPLIT_MIN bytes, read alone (no transfer log: nothing to join), is
// cut at the first line start after its middle. This thread reads the first
// part, a worker thread (dist/audit-part.mjs) the second, each through the
// same PartReader: the duplicate window, the filter, the summary's groups
// and the grants. The second part's groups, grants and skip counts are then
// added to the first's (Summary.absorb and the others), which is exact:
// - the groups' counts add up; first/last, the last allowed session and the
//   last success follow add()'s own rules (a later one replaces an earlier
//   one only when strictly later), and reasons new to a group take its free
//   places in the order they first came, as long as the second part's group
//   itself never ran out of room (else: see below);
// - a record of the second part is a copy in the whole read exactly when it
//   is one in its part, unless its key is in the first part's final window:
//   the second part reports the keys of its first SEEN_WINDOW records that
//   were not copies (after those, its window is the whole read's), and this
//   thread checks each against its window.
// When a check fails (a copy across the cut, a group with more than
// MAX_REASONS reasons), or the worker cannot run or fails (said on stderr),
// this thread reads the second part itself, from the state the first part
// left: the answer is always the single-thread one, only later.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildFilter, type FilterOptions, type RecordFilter } from '../filter.js';
import { type FirstKeys, SEEN_WINDOW, SeenRecords } from '../seen.js';
import { GrantCollector, type GrantState } from '../views/grants.js';
import { Summary, type SummaryState } from '../views/summary.js';
import { fileChunks, recordItems, SkipCounter } from './items.js';
import { unshownLine } from './prefilter.js';
import type { AuditRecord } from '../join/transfer.js';
import type { ReportBatch, ReportDecoder } from '../views/html/stream.js';

/** Files smaller than this are read on one thread: a worker's start (~50 ms) would not pay. */
export const SPLIT_MIN = 64 * 1024 * 1024;
/** How far past the middle the cut may look for a line start. */
const SEAM_LOOK = 1 << 20;

/**
 * The report's cut, as a share of the file: this thread reads the part
 * before it into the report, then feeds it the worker's records of the rest
 * (which costs it about a fifth of reading them), so its own part is the
 * smaller one.
 */
export const REPORT_CUT = 0.4;

/**
 * The report's two heaps stand side by side until the worker is done, and
 * V8 lets each grow to about twice what it holds: a full collection (the
 * big-read restart's --expose-gc) every READ_GC_EVERY batches of lines in
 * the worker and every FEED_GC_EVERY batches fed here keeps them near what
 * they hold. Over 1,000,000 records (docs/performance.md): 213 -> 192 MB
 * peak with both, the time the same within the noise.
 */
const READ_GC_EVERY = 500;
const FEED_GC_EVERY = 10;
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Where the second part starts: the first line start after `from` (the
 * middle) of the file whose first two bytes are not gzip's magic (so that both parts
 * read as plain text, as the whole file does); null when the file is gzip,
 * or no line starts within SEAM_LOOK of the middle.
 */
export function splitPoint(file: string, size: number, from = Math.floor(size / 2)): number | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    if (readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b) return null;
    const mid = from;
    const buf = Buffer.allocUnsafe(Math.min(SEAM_LOOK, size - mid));
    const n = readSync(fd, buf, 0, buf.length, mid);
    for (let i = buf.indexOf(0x0a, 0); i !== -1 && i + 1 < n; i = buf.indexOf(0x0a, i + 1)) {
      if (i + 2 < n && buf[i + 1] === 0x1f && buf[i + 2] === 0x8b) continue;
      return mid + i + 1;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** What the worker is asked: its part of the file, the run's filter, clock and reading choices, and for which view. */
export interface PartRequest {
  file: string;
  start: number;
  end: number;
  filter: FilterOptions;
  now: number;
  prefilter: boolean;
  /** summary: its groups and grants, merged; report: every record, encoded (views/html/stream.ts). Default summary. */
  mode?: 'summary' | 'report';
  /** report: the nights the timeline shows (--days). */
  days?: number;
  /** report: how many strings go by number (tests: a few, so that the rest go inline). */
  maxStrings?: number;
}

/** What a summary part answers with: everything its part added, and the keys its check needs. */
export interface PartResult {
  summary: SummaryState;
  grants: GrantState;
  skips: Map<string, Map<string, number>>;
  shown: number;
  duplicates: number;
  first: FirstKeys;
}

/** The end of a report part: what it read, besides its batches. */
export interface ReportPartEnd {
  skips: Map<string, Map<string, number>>;
  shown: number;
  duplicates: number;
}

/** A worker's messages, in the order it posts them. */
export type PartMessage = { result: PartResult } | { first: FirstKeys } | { batch: ReportBatch } | { end: ReportPartEnd };

/** How a worker posts (parentPort.postMessage, with the buffers to move). */
export type Post = (message: PartMessage, transfer?: ArrayBuffer[]) => void;

/**
 * One part's records to a view, as run.ts takes them there when no transfer
 * log is read (no joiner): the duplicate window, then --decision's events,
 * the filter, the view's `take`.
 */
export class PartReader {
  shown = 0;
  constructor(
    private readonly filter: RecordFilter,
    readonly seen: SeenRecords,
    readonly skips: SkipCounter,
    private readonly prefilter: boolean,
    private readonly take: (r: AuditRecord, t: number) => void,
  ) {}

  /** afterBatch: called after each batch of lines (the worker posts from there). */
  async read(file: string, start: number, end: number, afterBatch?: () => void): Promise<void> {
    const events = this.filter.events;
    const dropEarly = events !== null && !events.has('exit');
    const unshown = dropEarly && this.prefilter ? { time: unshownLine(events), keepPlace: false } : undefined;
    const family = { base: file, files: [file] };
    for await (const batch of recordItems(family, this.skips, () => fileChunks(file, start, end), unshown)) {
      for (const item of batch) {
        if (!item.parsed) continue;
        const { record: r, t } = item.parsed;
        if (dropEarly && !events.has(r.event)) continue;
        if (this.seen.repeated(r) || !this.filter.test(r, t)) continue;
        this.shown++;
        this.take(r, t);
      }
      afterBatch?.();
    }
  }

  /** Whether the second part's records are read as they would be after this part: no key of its start is in this part's window (see the top of this file). */
  continues(first: FirstKeys): boolean {
    return !this.seen.knowsAny(first);
  }

  /** The second part's counts (its view's answer is merged or fed by the caller). */
  absorb(part: ReportPartEnd): void {
    this.skips.absorb(part.skips);
    this.shown += part.shown;
    this.seen.duplicates += part.duplicates;
  }
}

/** What the summary takes of a record, as run.ts's emit: the grants, and every other event's group. */
export const summaryTake =
  (summary: Summary, grants: GrantCollector) =>
  (r: AuditRecord, t: number): void => {
    grants.add(r, t);
    if (r.event !== 'grant') summary.add(r, t);
  };

/** Whether a summary part's answer adds up to the single-thread one (see the top of this file). */
export const summaryFits = (reader: PartReader, part: PartResult): boolean => reader.continues(part.first) && Summary.absorbable(part.summary);

export function absorbSummary(reader: PartReader, summary: Summary, grants: GrantCollector, part: PartResult): void {
  summary.absorb(part.summary);
  grants.absorb(part.grants);
  reader.absorb(part);
}

/** The worker's own work (dist/audit-part.mjs, or auditPart in the executable): read its part for the view it is asked for. */
export async function runPart(req: PartRequest, post: Post): Promise<void> {
  const filter = buildFilter(req.filter, req.now);
  const seen = new SeenRecords(SEEN_WINDOW, SEEN_WINDOW);
  const skips = new SkipCounter();
  if (req.mode !== 'report') {
    const summary = new Summary();
    const grants = new GrantCollector();
    const reader = new PartReader(filter, seen, skips, req.prefilter, summaryTake(summary, grants));
    await reader.read(req.file, req.start, req.end);
    post({ result: { summary: summary.state, grants: grants.state, skips: skips.byFile, shown: reader.shown, duplicates: seen.duplicates, first: seen.first } });
    return;
  }
  // The report: its records in batches, after the keys the check needs (as soon as they are all known).
  const { oldestTime, ReportEncoder, sureFrom, transferables } = await import('../views/html/stream.js');
  const days = req.days ?? 30;
  const encoder = new ReportEncoder(oldestTime(req.now, days), sureFrom(req.now, days), req.maxStrings);
  let told = false;
  const send = (all: boolean) => {
    if (!told && (all || seen.firstComplete)) {
      told = true;
      post({ first: seen.first });
    }
    if (told) for (const batch of encoder.take(all)) post({ batch }, transferables(batch));
  };
  // A grant is no session: the report does not take it (run.ts's emit).
  const reader = new PartReader(filter, seen, skips, req.prefilter, (r, t) => r.event !== 'grant' && encoder.add(r, t));
  let batches = 0;
  await reader.read(req.file, req.start, req.end, () => {
    send(false);
    if (++batches % READ_GC_EVERY === 0) collect();
  });
  send(true);
  post({ end: { skips: skips.byFile, shown: reader.shown, duplicates: seen.duplicates } });
}

/** How the worker starts: the built file beside the CLI's chunks, or, inside the executable, code that loads the CLI's carried file. */
export type PartWorker = URL | { eval: string };

/**
 * Inside the self-contained executable there is no file to start a worker
 * from: the worker evaluates this, which compiles the carried CLI (sea/cli.cjs,
 * whose require() is Node's built-ins only, as src/sea/main.ts loads it) and
 * runs its auditPart (src/cli.ts).
 */
const IN_EXECUTABLE = `
const { getAsset } = require('node:sea');
const { compileFunction } = require('node:vm');
const { parentPort, workerData } = require('node:worker_threads');
const file = process.execPath + '/cli.cjs';
const run = compileFunction(Buffer.from(getAsset('cli.cjs')).toString('utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
const m = { exports: {} };
run.call(m.exports, m.exports, (id) => process.getBuiltinModule(id), m, file, process.execPath);
m.exports.auditPart(workerData, (message, transfer) => parentPort.postMessage(message, transfer));
`;

/** The worker this build has; null where there is none (the sources under test). */
export function partWorker(): PartWorker | null {
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea') | undefined;
  if (sea?.isSea()) return { eval: IN_EXECUTABLE };
  try {
    const url = new URL('../audit-part.mjs', import.meta.url);
    return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
  } catch {
    return null;
  }
}

/**
 * A worker started on its part, and its messages in order. A worker that
 * cannot start, fails, or exits before its last message answers `failed`.
 */
export class PartStream {
  private readonly queue: (PartMessage | { failed: string })[] = [];
  private waiting: (() => void) | null = null;
  private over = false;
  private worker: import('node:worker_threads').Worker | null = null;

  private constructor() {}

  static async start(how: PartWorker, req: PartRequest): Promise<PartStream> {
    const { Worker } = await import('node:worker_threads');
    const s = new PartStream();
    try {
      s.worker = how instanceof URL ? new Worker(how, { workerData: req }) : new Worker(how.eval, { eval: true, workerData: req });
    } catch (e) {
      s.push({ failed: (e as Error).message });
      return s;
    }
    s.worker.on('message', (m: PartMessage) => s.push(m));
    s.worker.once('error', (e) => s.push({ failed: e.message }));
    s.worker.once('exit', (code) => s.push({ failed: `it exited with status ${code} before answering` }));
    return s;
  }

  private push(m: PartMessage | { failed: string }): void {
    if (this.over) return;
    // The last message ends the stream: a later exit or error says nothing more.
    if ('failed' in m || 'result' in m || 'end' in m) this.over = true;
    this.queue.push(m);
    this.waiting?.();
  }

  async next(): Promise<PartMessage | { failed: string }> {
    while (this.queue.length === 0) await new Promise<void>((resolve) => (this.waiting = resolve));
    this.waiting = null;
    return this.queue.shift()!;
  }

  /** Stop the worker (its answer is not needed: this thread reads the part itself, or it has said all). */
  async stop(): Promise<void> {
    this.over = true;
    await this.worker?.terminate();
  }
}

/** A summary part: the worker's one answer, or why it gave none. */
export async function startPart(how: PartWorker, req: PartRequest): Promise<PartResult | { failed: string }> {
  const m = await (await PartStream.start(how, req)).next();
  return 'failed' in m ? m : 'result' in m ? m.result : { failed: 'it answered out of turn' };
}

/** How a split report read ended (run.ts starts again on one thread after a failure once batches were fed). */
export type ReportOutcome = 'merged' | 'read-again' | { failed: string; fed: boolean };

/**
 * The report over a split file: this thread reads [0, at) into the report,
 * then feeds it the worker's batches of [at, size) in order; when the
 * worker's first keys meet this part's window (a copy across the cut), or
 * the worker fails before a batch was fed, this thread reads the second
 * part itself.
 */
export async function readReportSplit(
  plan: { file: string; at: number; size: number; worker: PartWorker },
  req: PartRequest,
  reader: PartReader,
  decoder: ReportDecoder,
): Promise<ReportOutcome> {
  const stream = await PartStream.start(plan.worker, { ...req, mode: 'report', start: plan.at, end: plan.size });
  await reader.read(plan.file, 0, plan.at);
  const first = await stream.next();
  let failed: string | null = 'failed' in first ? first.failed : 'first' in first ? null : 'it answered out of turn';
  let fed = 0;
  if (failed === null && 'first' in first && reader.continues(first.first)) {
    for (;;) {
      const m = await stream.next();
      if ('batch' in m) {
        if (++fed % FEED_GC_EVERY === 0) collect();
        decoder.apply(m.batch);
      } else if ('end' in m) {
        await stream.stop();
        reader.absorb(m.end);
        return 'merged';
      } else {
        failed = 'failed' in m ? m.failed : 'it answered out of turn';
        break;
      }
    }
  }
  await stream.stop();
  if (fed > 0) return { failed: failed!, fed: true };
  await reader.read(plan.file, plan.at, plan.size);
  return failed === null ? 'read-again' : { failed, fed: false };
}

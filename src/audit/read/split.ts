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

/** Files smaller than this are read on one thread: a worker's start (~50 ms) would not pay. */
export const SPLIT_MIN = 64 * 1024 * 1024;
/** How far past the middle the cut may look for a line start. */
const SEAM_LOOK = 1 << 20;

/**
 * Where the second part starts: the first line start after the middle of
 * the file whose first two bytes are not gzip's magic (so that both parts
 * read as plain text, as the whole file does); null when the file is gzip,
 * or no line starts within SEAM_LOOK of the middle.
 */
export function splitPoint(file: string, size: number): number | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    if (readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b) return null;
    const mid = Math.floor(size / 2);
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

/** What the worker is asked: its part of the file, and the run's filter, clock and reading choices. */
export interface PartRequest {
  file: string;
  start: number;
  end: number;
  filter: FilterOptions;
  now: number;
  prefilter: boolean;
}

/** What it answers with: everything its part added, and the keys its check needs. */
export interface PartResult {
  summary: SummaryState;
  grants: GrantState;
  skips: Map<string, Map<string, number>>;
  shown: number;
  duplicates: number;
  first: FirstKeys;
}

/**
 * One part's records to the summary, as run.ts takes them there when no
 * transfer log is read (no joiner): the duplicate window, then --decision's
 * events, the filter, the grants, the groups.
 */
export class PartReader {
  shown = 0;
  constructor(
    private readonly filter: RecordFilter,
    readonly seen: SeenRecords,
    readonly summary: Summary,
    readonly grants: GrantCollector,
    readonly skips: SkipCounter,
    private readonly prefilter: boolean,
  ) {}

  async read(file: string, start: number, end: number): Promise<void> {
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
        this.grants.add(r, t);
        if (r.event !== 'grant') this.summary.add(r, t);
      }
    }
  }

  /** Whether the second part's answer adds up to the single-thread one (see the top of this file). */
  fits(part: PartResult): boolean {
    return !this.seen.knowsAny(part.first) && Summary.absorbable(part.summary);
  }

  absorb(part: PartResult): void {
    this.summary.absorb(part.summary);
    this.grants.absorb(part.grants);
    this.skips.absorb(part.skips);
    this.shown += part.shown;
    this.seen.duplicates += part.duplicates;
  }
}

/** The worker's own work (dist/audit-part.mjs): read its part as the first would be read. */
export async function readPart(req: PartRequest): Promise<PartResult> {
  const reader = new PartReader(buildFilter(req.filter, req.now), new SeenRecords(SEEN_WINDOW, SEEN_WINDOW), new Summary(), new GrantCollector(), new SkipCounter(), req.prefilter);
  await reader.read(req.file, req.start, req.end);
  return { summary: reader.summary.state, grants: reader.grants.state, skips: reader.skips.byFile, shown: reader.shown, duplicates: reader.seen.duplicates, first: reader.seen.first };
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
m.exports.auditPart(workerData).then((r) => parentPort.postMessage(r));
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

/** Start the worker on its part; resolves with its answer, or why it gave none. */
export async function startPart(how: PartWorker, req: PartRequest): Promise<PartResult | { failed: string }> {
  const { Worker } = await import('node:worker_threads');
  return new Promise((resolve) => {
    let worker;
    try {
      worker = how instanceof URL ? new Worker(how, { workerData: req }) : new Worker(how.eval, { eval: true, workerData: req });
    } catch (e) {
      resolve({ failed: (e as Error).message });
      return;
    }
    worker.once('message', (m: PartResult) => resolve(m));
    worker.once('error', (e) => resolve({ failed: e.message }));
    worker.once('exit', (code) => resolve({ failed: `it exited with status ${code} before answering` }));
  });
}

// `gatekeeper audit`: sources → records in time order → rsync outcomes joined
// → filter → one of six views (table, --json, --summary, --suggest, --metrics,
// --check).
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { writeFileAtomic } from '../atomic-write.js';
import { EX_OK, EX_USAGE } from '../exit.js';
import { CHECK_STATES, evaluateCheck, unknown } from './views/check.js';
import { CHECK_DEFAULTS } from './defaults.js';
import { buildFilter, type FilterOptions, parseTimePoint } from './filter.js';
import { followLines } from './read/follow.js';
import { HealthCollector } from './join/health.js';
import { BIG_READ, inputBytes, REPORT_SPLIT_RESTART, RESTART_FLAGS, type Restart, SPLIT_RESTART } from './read/memory.js';
import { type Paint, paint, tableHeader, tableRow, useColour, visible } from './views/format.js';
import { parseLine } from './read/parse.js';
import { unshownLine } from './read/prefilter.js';
import { type Item, mergeByTime, openFile, type Opener, recordItems, SkipCounter, transferItems } from './read/items.js';
import { defaultSources, DEFAULT_POLICY_DIR, expandGlob, type Family, groupFamilies, rotatedFamily } from './read/sources.js';
import { renderSummary, Summary, summaryJson } from './views/summary.js';
import { GrantCollector, grantJson, renderGrants } from './views/grants.js';
import { isRevoked, loadRevoked } from './views/revoked.js';
import { parseTransferLine, TransferJoiner, type AuditRecord } from './join/transfer.js';
import { SeenRecords } from './seen.js';
import { absorbSummary, PartReader, partWorker, type PartWorker, readReportSplit, REPORT_CUT, splitPoint, SPLIT_MIN, startPart, summaryFits, summaryTake } from './read/split.js';

/** sysexits EX_NOINPUT: nothing to read. */
export const EX_NOINPUT = 66;
/** sysexits EX_CANTCREAT: --output cannot be written. */
export const EX_CANTCREAT = 73;

export interface AuditOptions extends FilterOptions {
  log?: string[];
  transferLog?: string[];
  /** The RevokedKeys list whose keys' sessions are marked (default: the one install recorded). */
  revokedKeys?: string;
  policyDir?: string;
  json?: boolean;
  summary?: boolean;
  suggest?: boolean;
  follow?: boolean;
  /** --summary, --check: warn when the last success is older than this (a duration). */
  stale?: string;
  /** Prometheus text exposition (health.ts, metrics.ts). */
  metrics?: boolean;
  /** --metrics: write here, atomically, instead of stdout. */
  output?: string;
  /** --metrics, --check: the window session counts cover (a duration; default 24h). */
  lookback?: string;
  /** A monitoring-plugin check (check.ts). */
  check?: boolean;
  /** --check: a client with neither a success nor an allowed session within this long is retired (default 30d). */
  history?: string;
  refusalsWarning?: string;
  refusalsCritical?: string;
  /** Compute as if it were this time (default: the clock). */
  now?: string;
  /** The HTML report (views/html.ts): a file written atomically, or "-" for stdout. */
  html?: string;
  /** --html: how many nights the timeline shows (default 30). */
  days?: string;
}

export interface AuditIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  now?: number;
  open?: Opener;
  /** --follow: poll interval and a way to stop (tests). */
  pollMs?: number;
  signal?: AbortSignal;
  /**
   * For a big read: start the process again with a smaller young generation
   * (memory.ts). Only the real CLI passes it; returns when it cannot.
   */
  restartForBigRead?: (how: Restart) => void;
  /** false: parse every line, even one --decision cannot show (the tests' reference for read/prefilter.ts). */
  prefilter?: boolean;
  /** false: read a big file on one thread (the tests' reference for read/split.ts). */
  split?: boolean;
  /** The split read's worker and the smallest file it cuts (tests: the built worker, small files). */
  partWorker?: PartWorker;
  splitMin?: number;
  /** A split report's table of strings sent by number (tests: small; views/html/stream.ts). */
  reportStrings?: number;
  /** Told how a split read ended: the second part's answer merged, read again here (a check failed), or the worker gave none. */
  splitOutcome?: (how: 'merged' | 'read-again' | 'worker-failed') => void;
}

class UsageError extends Error {}

/** Buffered stdout with backpressure; stops quietly when the reader goes away (`| head`). */
class Out {
  private parts: string[] = [];
  private size = 0;
  closed = false;
  constructor(private readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }
  line(text: string): void {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
  }
  async maybeFlush(): Promise<void> {
    if (this.size >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.size === 0 || this.closed) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
        this.stream.on('error', done);
      });
    }
  }
}

/** Named files, globs expanded; a missing one is an error, except that --follow waits for it. */
function resolveNamed(patterns: readonly string[], what: string, follow: boolean, warn: (msg: string) => void): string[] {
  const files: string[] = [];
  for (const pattern of patterns) {
    for (const file of expandGlob(pattern)) {
      if (file !== '-') {
        try {
          if (!statSync(file).isFile()) throw new UsageError(`${what} ${file} is not a file`);
        } catch (e) {
          if (e instanceof UsageError) throw e;
          const code = (e as NodeJS.ErrnoException).code;
          if (follow && code === 'ENOENT') warn(`waiting for ${file} to appear`);
          else throw new NoInput(`cannot read ${what} ${file}: ${code ?? (e as Error).message}`);
        }
      }
      files.push(file);
    }
  }
  return files;
}

class NoInput extends Error {}
class CannotWrite extends Error {}

/** A length of time (`26h`, `3d`, `1d12h`, `2w`) in ms. */
function duration(flag: string, text: string): number {
  if (!/^(\d+[smhdw])+$/.test(text.trim())) throw new UsageError(`${flag} takes a duration such as 26h or 3d, not ${JSON.stringify(text)}`);
  return -parseTimePoint(text, 0);
}

/** A threshold: a whole number of sessions (the check alerts when the count exceeds it). */
function count(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Rows the table holds back, at most, to see whether a second host comes. */
export const HOST_LOOKAHEAD = 1000;

/**
 * The table, with a HOST column when the records come from more than one
 * host. Rows wait (up to HOST_LOOKAHEAD of them) until a second host shows
 * or the input ends, so a fleet's log has the column from its first row. If
 * a second host appears only later (a long read, or --follow, which holds
 * nothing back), the column starts there: a note names the one host of every
 * row above, and the header comes again, with HOST.
 */
class Table {
  private readonly hosts = new Set<string>();
  private pending: { r: AuditRecord; t: number }[] | null = [];
  private withHost = false;

  constructor(
    private readonly out: Out,
    private readonly p: Paint,
    private readonly columns: number | undefined,
    private readonly lookahead: number,
  ) {
    if (lookahead === 0) this.release();
  }

  add(r: AuditRecord, t: number): void {
    this.hosts.add(r.hostname ?? '-');
    if (this.pending) {
      this.pending.push({ r, t });
      if (this.hosts.size > 1) {
        this.withHost = true;
        this.release();
      } else if (this.pending.length >= this.lookahead) this.release();
      return;
    }
    if (!this.withHost && this.hosts.size > 1) {
      const [first] = this.hosts;
      this.out.line(this.p('dim', `(every row above is from ${first === '-' ? 'an unknown host' : `host ${visible(first!)}`})`));
      this.withHost = true;
      this.out.line(tableHeader(this.p, this.columns, true));
    }
    this.out.line(tableRow(r, t, this.p, this.columns, this.withHost));
  }

  /** The header and the rows held back; from here on rows are written as they come. */
  release(): void {
    if (!this.pending) return;
    const rows = this.pending;
    this.pending = null;
    this.out.line(tableHeader(this.p, this.columns, this.withHost));
    for (const { r, t } of rows) this.out.line(tableRow(r, t, this.p, this.columns, this.withHost));
  }
}

export async function runAudit(opts: AuditOptions, io: AuditIo): Promise<number> {
  const err = (msg: string) => io.stderr.write(`gatekeeper: ${msg}\n`);
  try {
    return await audit(opts, io, err);
  } catch (e) {
    if (opts.check) {
      // The plugin convention: anything that keeps the check from answering is UNKNOWN (3), said on stdout.
      const message = e instanceof UsageError || e instanceof NoInput ? e.message : `internal error: ${(e as Error).message}`;
      io.stdout.write(unknown(message).text);
      return CHECK_STATES.unknown.exit;
    }
    if (e instanceof UsageError) {
      err(e.message);
      return EX_USAGE;
    }
    if (e instanceof NoInput) {
      err(e.message);
      return EX_NOINPUT;
    }
    if (e instanceof CannotWrite) {
      err(e.message);
      return EX_CANTCREAT;
    }
    throw e;
  }
}

async function audit(opts: AuditOptions, io: AuditIo, report: (msg: string) => void): Promise<number> {
  let said = 0;
  const err = (msg: string) => {
    said++;
    report(msg);
  };
  let now = io.now ?? Date.now();
  if (opts.now !== undefined) {
    try {
      now = parseTimePoint(opts.now, now);
    } catch (e) {
      throw new UsageError(`--now: ${(e as Error).message}`);
    }
  }
  const views = [opts.summary && '--summary', opts.suggest && '--suggest', opts.metrics && '--metrics', opts.check && '--check', opts.html !== undefined && '--html'].filter(Boolean);
  if (views.length > 1) throw new UsageError('choose one of --summary, --suggest, --metrics, --check and --html');
  if (opts.html !== undefined && opts.json) throw new UsageError('--html writes HTML; it does not combine with --json');
  if (opts.days !== undefined && opts.html === undefined) throw new UsageError('--days is for --html');
  const days = opts.days === undefined ? 30 : count('--days', opts.days);
  if (days < 1 || days > 366) throw new UsageError('--days takes a number of nights from 1 to 366');
  if ((opts.metrics || opts.check) && opts.json) throw new UsageError(`${views[0]} has its own format; it does not combine with --json`);
  if (opts.output !== undefined && !opts.metrics) throw new UsageError('--output is for --metrics');
  for (const [flag, value] of [['--lookback', opts.lookback], ['--history', opts.history], ['--refusals-warning', opts.refusalsWarning], ['--refusals-critical', opts.refusalsCritical]] as const) {
    if (value !== undefined && !opts.check && !(opts.metrics && flag === '--lookback')) throw new UsageError(`${flag} is for ${flag === '--lookback' ? '--metrics and --check' : '--check'}`);
  }
  const lookbackMs = duration('--lookback', opts.lookback ?? CHECK_DEFAULTS.lookback);
  const historyMs = duration('--history', opts.history ?? CHECK_DEFAULTS.history);
  const refusalsWarning = count('--refusals-warning', opts.refusalsWarning ?? CHECK_DEFAULTS.refusalsWarning);
  const refusalsCritical = count('--refusals-critical', opts.refusalsCritical ?? CHECK_DEFAULTS.refusalsCritical);
  if (opts.suggest && opts.json) throw new UsageError('--suggest prints YAML; it does not combine with --json');
  if (opts.follow && views.length) throw new UsageError(`--follow shows records as they arrive; it does not combine with ${views[0]}`);

  let filter;
  let staleMs = 26 * 3600e3;
  if (opts.stale !== undefined && !/^(\d+[smhdw])+$/.test(opts.stale.trim())) throw new UsageError('--stale takes a duration such as 26h or 3d');
  try {
    filter = buildFilter(opts, now);
    if (opts.stale !== undefined) staleMs = now - parseTimePoint(opts.stale, now);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  // Sources.
  const policyDir = opts.policyDir ?? DEFAULT_POLICY_DIR;
  let logs: Family[];
  let transferLogs: Family[];
  if (opts.log?.length) {
    logs = groupFamilies(resolveNamed(opts.log, 'log', opts.follow === true, err));
    transferLogs = groupFamilies(resolveNamed(opts.transferLog ?? [], 'transfer log', opts.follow === true, err));
  } else {
    const found = defaultSources(policyDir, err);
    logs = found.logs;
    transferLogs = opts.transferLog?.length ? groupFamilies(resolveNamed(opts.transferLog, 'transfer log', opts.follow === true, err)) : found.transferLogs;
    if (logs.length === 0 && opts.metrics) {
      // The timer runs before the first backup too: an exposition without groups (build info, time) is the true answer.
      err(`no log files found for the policies in ${policyDir} yet`);
    } else if (logs.length === 0) {
      throw new NoInput(
        `no log files found for the policies in ${policyDir}; name them with --log FILE (or --log - for stdin, e.g. journalctl -t gatekeeper -o json | gatekeeper audit --log -)`,
      );
    }
  }
  if (transferLogs.some((f) => f.base === '-') && logs.some((f) => f.base === '-')) throw new UsageError('stdin can carry the log or the transfer log, not both');
  // Nothing written yet (a warning would be said twice): a big read starts again with less memory.
  // A big log file read alone for --summary: on two CPUs (read/split.ts).
  // So is one for --html: this thread reads its first part, a worker parses the rest for it (read/split.ts).
  const split = (opts.summary || opts.html !== undefined) && !opts.follow && io.split !== false ? splitPlan(logs, transferLogs, io, opts.summary ? 0.5 : REPORT_CUT) : null;
  if (io.restartForBigRead && !opts.follow && said === 0 && inputBytes([...logs, ...transferLogs]) >= BIG_READ) io.restartForBigRead(split ? (opts.summary ? SPLIT_RESTART : REPORT_SPLIT_RESTART) : { flags: RESTART_FLAGS });

  const out = new Out(io.stdout);
  const colour = useColour(io.stdout.isTTY, io.env);
  const p = paint(colour);
  const columns = io.stdout.isTTY ? io.stdout.columns : undefined;
  const skips = new SkipCounter();
  const joiner = new TransferJoiner();
  const summary = opts.summary ? new Summary() : null;
  const grants = opts.summary ? new GrantCollector() : null;
  const health = opts.metrics || opts.check ? new HealthCollector(now, lookbackMs) : null;
  const { SuggestCollector } = opts.suggest ? await import('./views/suggest.js') : { SuggestCollector: null };
  const collector = SuggestCollector ? new SuggestCollector() : null;
  const htmlView = opts.html !== undefined ? await htmlReport(now, days, policyDir, logs, transferLogs, err) : null;
  const table = !opts.json && !summary && !collector && !health && !htmlView ? new Table(out, p, columns, opts.follow ? 0 : HOST_LOOKAHEAD) : null;
  let shown = 0;

  // The revocation list, read once for the whole run (views/revoked.ts); a record costs a set lookup.
  const revoked = opts.html !== undefined || opts.metrics || opts.check || opts.suggest ? null : await loadRevoked(opts.revokedKeys, policyDir, err);
  // One record through the filter to the chosen view.
  const emit = (r: AuditRecord, t: number, raw: string | null) => {
    if (!filter.test(r, t)) return;
    shown++;
    if (revoked && r.event !== 'grant' && isRevoked(revoked, r)) {
      r = { ...r, revoked: true };
      if (raw !== null) raw = `${raw.slice(0, raw.lastIndexOf('}'))},"revoked":true}`;
    }
    grants?.add(r, t);
    // A grant event is no session: only the table, --json and the summary's grants show it.
    if (r.event === 'grant' && (summary || health || htmlView || collector)) return;
    if (summary) summary.add(r, t);
    else if (health) health.add(r, t);
    else if (htmlView) htmlView.add(r, t);
    else if (collector) collector.add(r, t);
    else if (opts.json) out.line(raw ?? JSON.stringify(r));
    else table?.add(r, t);
  };
  const seen = new SeenRecords();
  // The joiner completes exit records from rsync's transfer log lines; with no
  // transfer log it has nothing to join, and records pass straight on. When
  // --decision leaves exit out (--decision deny), none of its output could
  // show either: it is not fed at all, and a record of an event that cannot
  // show is dropped before the duplicate set (whose note then counts the
  // duplicates of shown events).
  const events = filter.events;
  const dropEarly = events !== null && !events.has('exit');
  const joining = !dropEarly && transferLogs.length > 0;
  const handle = (item: Item) => {
    if (item.parsed) {
      const { record, t, raw } = item.parsed;
      if (dropEarly) {
        if (events.has(record.event) && !seen.repeated(record)) emit(record, t, raw);
        return;
      }
      if (seen.repeated(record)) return;
      if (!joining) {
        emit(record, t, raw);
        return;
      }
      for (const done of joiner.flush(t)) emit(done, Date.parse(done.time), null);
      // A held record (spawn fallback) comes back completed from a later flush.
      if (!joiner.onRecord(record, t)) emit(record, t, raw);
    } else if (joining && item.line) {
      for (const done of joiner.onLine(item.line)) emit(done, Date.parse(done.time), null);
    }
  };

  if (split && summary) {
    const part = startPart(split.worker, { file: split.file, start: split.at, end: split.size, filter: filterOptions(opts), now, prefilter: io.prefilter !== false });
    const reader = new PartReader(filter, seen, skips, io.prefilter !== false, summaryTake(summary, grants!));
    await reader.read(split.file, 0, split.at);
    const second = await part;
    const failed = 'failed' in second ? second.failed : null;
    if (failed !== null) err(`the second half of ${split.file} could not be read in a worker thread (${failed}); read on one thread`);
    const merged = !('failed' in second) && summaryFits(reader, second);
    if (merged) absorbSummary(reader, summary, grants!, second);
    else await reader.read(split.file, split.at, split.size);
    io.splitOutcome?.(merged ? 'merged' : failed !== null ? 'worker-failed' : 'read-again');
    shown += reader.shown;
    // Both parts' garbage is still in this heap when the summary is rendered
    // on top of it: 150 -> 142 MB peak over 1,000,000 records (gc() is
    // there after the big-read restart, memory.ts).
    (globalThis as { gc?: () => void }).gc?.();
  } else if (split && htmlView) {
    const { ReportDecoder } = await import('./views/html/stream.js');
    const reader = new PartReader(filter, seen, skips, io.prefilter !== false, (r, t) => r.event !== 'grant' && htmlView.add(r, t));
    const req = { file: split.file, start: split.at, end: split.size, filter: filterOptions(opts), now, prefilter: io.prefilter !== false, days, maxStrings: io.reportStrings };
    const outcome = await readReportSplit(split, req, reader, new ReportDecoder(htmlView));
    if (typeof outcome !== 'string') {
      err(`the part of ${split.file} from byte ${split.at} could not be read in a worker thread (${outcome.failed}); read on one thread`);
      io.splitOutcome?.('worker-failed');
      // Records of the worker's are in the report already: start again, on one thread, from nothing.
      if (outcome.fed) return audit(opts, { ...io, split: false, restartForBigRead: undefined }, report);
    } else io.splitOutcome?.(outcome);
    shown += reader.shown;
  } else if (opts.follow) {
    await follow(logs, transferLogs, opts, io, filter.since > Number.NEGATIVE_INFINITY, skips, handle, joiner, emit, out);
  } else {
    const open = io.open ?? openFile;
    // Without the joiner, a line certainly of an event that cannot show is dropped unparsed (read/prefilter.ts).
    const keepPlace = logs.length + transferLogs.length > 1;
    const unshown = dropEarly && io.prefilter !== false ? { time: unshownLine(events), keepPlace } : undefined;
    const sources = [...logs.map((f) => recordItems(f, skips, open, unshown)), ...transferLogs.map((f) => transferItems(f, skips, open))];
    for await (const batch of mergeByTime(sources)) {
      for (const item of batch) handle(item);
      await out.maybeFlush();
      if (out.closed) break;
    }
    for (const done of joiner.flushAll()) emit(done, Date.parse(done.time), null);
  }
  table?.release();

  if (summary) {
    const groups = summary.result();
    const granted = grants!.result();
    if (opts.json) {
      for (const g of groups) out.line(summaryJson(g));
      for (const g of granted) out.line(grantJson(g));
    } else {
      if (groups.length) out.line(renderSummary(groups, { now, staleMs, paint: p }).trimEnd());
      if (granted.length) out.line(`${groups.length ? '\n' : ''}${renderGrants(granted, now, p)}`);
    }
  }
  if (health && opts.metrics) {
    const { renderMetrics } = await import('./views/metrics.js');
    const text = renderMetrics(health.result(), { now, lookbackMs }, health.certificates());
    if (opts.output !== undefined) {
      try {
        writeFileAtomic(opts.output, text, 0o644);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CannotWrite(`cannot write ${opts.output}: ${code ?? (e as Error).message}`);
      }
    } else out.line(text.trimEnd());
  }
  if (health && opts.check) {
    for (const line of skips.report()) err(line);
    if (shown === 0) throw new NoInput('no records match');
    const result = evaluateCheck(health.result(), { now, staleMs, historyMs, lookbackMs, refusalsWarning, refusalsCritical });
    out.line(result.text.trimEnd());
    await out.flush();
    return CHECK_STATES[result.state].exit;
  }
  if (htmlView) {
    const text = await htmlView.finish({ now, staleMs, lookbackMs, paint: p, json: false });
    if (opts.html === '-') out.line(text.trimEnd());
    else {
      try {
        writeFileAtomic(opts.html!, text, 0o644);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CannotWrite(`cannot write ${opts.html}: ${code ?? (e as Error).message}`);
      }
    }
  }
  if (collector) {
    const { suggest, renderSuggestions } = await import('./views/suggest.js');
    const list = await suggest(collector, { policyDir });
    if (list.length) out.line(renderSuggestions(list).trimEnd());
    else err('no refused sessions in the selected records: nothing to suggest');
    if (collector.dropped) err(`--suggest considered the first ${collector.byPolicy.size} policies' distinct commands only; ${collector.dropped} more were not examined`);
  }
  await out.flush();
  // An empty exposition is a valid answer for --metrics (nothing logged yet).
  if (shown === 0 && !collector && !opts.metrics) err('no records match');
  for (const line of skips.report()) err(line);
  if (seen.duplicates > 0) {
    err(`skipped ${seen.duplicates} duplicate record${seen.duplicates === 1 ? '' : 's'} (the same host, session and event again: syslog forwarding delivers at least once, or a file was named twice)`);
  }
  return EX_OK;
}

/** The filter's options alone, for the worker of a split read. */
function filterOptions(opts: AuditOptions): FilterOptions {
  const { since, until, policy, decision, client, user, host, keyId, grep } = opts;
  return { since, until, policy, decision, client, user, host, keyId, grep };
}

/** One plain log file, big enough, no transfer log, two CPUs and the worker built: where to cut it (near `cut` of its size); else null. */
function splitPlan(logs: Family[], transferLogs: Family[], io: AuditIo, cut: number): { file: string; size: number; at: number; worker: PartWorker } | null {
  if (logs.length !== 1 || logs[0]!.files.length !== 1 || transferLogs.length > 0) return null;
  const file = logs[0]!.files[0]!;
  const worker = io.partWorker ?? partWorker();
  if (file === '-' || worker === null || availableParallelism() < 2) return null;
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return null;
    size = st.size;
  } catch {
    return null;
  }
  if (size < (io.splitMin ?? SPLIT_MIN)) return null;
  const at = splitPoint(file, size, Math.floor(size * cut));
  return at === null ? null : { file, size, at, worker };
}

/**
 * The HTML view with what it needs from outside the records: each policy's
 * window and zone (the policy files in --policy-dir), the keys install
 * recorded (its manifest beside --policy-dir), and --suggest's answer.
 */
async function htmlReport(now: number, days: number, policyDir: string, logs: Family[], transferLogs: Family[], warn: (msg: string) => void) {
  const [{ HtmlReport }, { readPolicies }, { SuggestCollector, suggest }] = await Promise.all([import('./views/html.js'), import('./read/sources.js'), import('./views/suggest.js')]);
  const policies = new Map(readPolicies(policyDir, () => undefined).map((p) => [p.name, { window: p.policy.window, timezone: p.policy.timezone }]));
  const configDir = dirname(policyDir.replace(/\/+$/, ''));
  let keys: { keys: import('./views/html.js').WiredKey[]; source: string } | { problem: string };
  try {
    // The manifest is install's; `gatekeeper keys` reads it the same way.
    const { installedKeys } = await import('../install/keys-list.js');
    const { statePath } = await import('../install/state.js');
    keys = { keys: installedKeys({ configDir, now }), source: statePath(configDir) };
  } catch (e) {
    keys = { problem: `the keys install recorded cannot be read: ${(e as Error).message}` };
    warn((keys as { problem: string }).problem);
  }
  const sources = [...logs, ...transferLogs].map((f) => (f.base === '-' ? 'stdin' : f.base)).join(', ');
  return new HtmlReport({ now, days, policies, keys, collector: new SuggestCollector(), suggest: (c) => suggest(c, { policyDir }), sources });
}

/** --follow: every family followed at once, records handled as they arrive. */
async function follow(
  logs: Family[],
  transferLogs: Family[],
  opts: AuditOptions,
  io: AuditIo,
  withHistory: boolean,
  skips: SkipCounter,
  handle: (item: Item) => void,
  joiner: TransferJoiner,
  emit: (r: AuditRecord, t: number, raw: string | null) => void,
  out: Out,
): Promise<void> {
  // Stop on SIGINT/SIGTERM (or the caller's signal), and when stdout's reader goes away.
  const ac = new AbortController();
  const stop = () => ac.abort();
  if (io.signal) io.signal.addEventListener('abort', stop, { once: true });
  else {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  const pollMs = io.pollMs ?? 250;
  const open = io.open ?? openFile;
  // With --since, history first: the rotated siblings, in time order. The live
  // files are then followed from their first byte, so nothing falls in between.
  if (withHistory) {
    const older = (f: Family): Family => {
      const all = rotatedOrSelf(f);
      return { base: f.base, files: all.files.slice(0, -1) };
    };
    const sources = [
      ...logs.filter((f) => f.base !== '-').map((f) => recordItems(older(f), skips, open)),
      ...transferLogs.filter((f) => f.base !== '-').map((f) => transferItems(older(f), skips, open)),
    ];
    if (sources.length) {
      for await (const batch of mergeByTime(sources)) {
        for (const item of batch) handle(item);
        await out.maybeFlush();
      }
      await out.flush();
    }
  }
  const all = [...logs.map((f) => ({ family: f, kind: 'log' as const })), ...transferLogs.map((f) => ({ family: f, kind: 'transfer' as const }))];
  // Nothing is written until every file has been looked at once: whoever reads
  // our first output line may append, and expect to see, the next record.
  const looked = new Set<number>();
  const followers = all.map(async ({ family, kind }, index) => {
    if (family.base === '-') {
      // A pipe has no "later": read it to its end.
      for await (const batch of (kind === 'log' ? recordItems : transferItems)(family, skips, open)) for (const item of batch) handle(item);
      looked.add(index);
      if (looked.size === all.length) await out.flush();
      return;
    }
    const live = family.files[family.files.length - 1] ?? family.base;
    for await (const lines of followLines(live, { fromEnd: !withHistory, pollMs, signal: ac.signal })) {
      for (const text of lines) {
        if (text.length === 0) continue;
        if (kind === 'log') {
          const parsed = parseLine(text);
          if (typeof parsed === 'string') skips.add(live, parsed);
          else handle({ t: parsed.t, parsed });
        } else {
          const line = parseTransferLine(text);
          if (line && line.kind !== 'other') handle({ t: line.t, line });
        }
      }
      // Quiet moment: a run whose `sent` line came a while ago has finished.
      if (lines.length === 0) {
        looked.add(index);
        for (const done of joiner.flush(Date.now())) emit(done, Date.parse(done.time), null);
      }
      if (looked.size === all.length) await out.flush();
      if (out.closed) ac.abort();
    }
  });
  await Promise.all(followers);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}

/** A family as named, or the live file's rotated siblings when only the live file was named. */
function rotatedOrSelf(f: Family): Family {
  return f.files.length === 1 && f.files[0] === f.base ? rotatedFamily(f.base) : f;
}

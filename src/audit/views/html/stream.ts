// The report's records as numbers, for a split read (read/split.ts): the
// worker thread that parses the second part of a log encodes each record the
// report takes, and this thread feeds them to its HtmlReport in the same
// order, after its own part, through the same methods add() uses. So the page
// is the single-thread page, not a merge of two.
//
// A structured clone of a parsed record costs this thread three quarters of a
// JSON.parse of its line; here the common records (allow, exit and error
// without a certificate) are a few numbers in typed arrays (moved, not
// copied), rows and repeated strings (fingerprints, cell texts) go once, and
// a hex session is two 32-bit numbers. Any other record (a refusal, which
// --suggest's collector keeps, a certificate, other events) is sent whole.
import type { AuditRecord } from '../../join/transfer.js';
import { isSuccessStatus } from '../../join/transfer.js';
import { halves, hexHalves, hexSession } from '../../session.js';
import { errorText, exitText, expectsOutcome, fingerprintOf, type HtmlReport, type Row } from '../html.js';

export { oldestTime } from '../html.js';
import { candidateKey } from '../suggest.js';
import { reasonKey } from '../summary.js';
import { shortCommand } from '../format.js';

/**
 * From when on a session is in the timeline's last `days` nights in any
 * zone and window: a night is named by the date it ends on, a zone moves
 * that date by at most a day, so three days' margin is ample.
 */
export const sureFrom = (now: number, days: number): number => now - (days - 3) * 86_400_000;

/** Records per batch. */
export const REPORT_BATCH = 8192;
/** Strings sent once and then named by number, at most; any further one goes with each batch that uses it. */
export const MAX_STRINGS = 100_000;

const ALLOW = 0;
const EXIT = 1;
const ERROR = 2;
const DENY = 3;
const WHOLE = 4;
const EVENT_NAMES = ['allow', 'exit', 'error', 'deny'] as const;
/** flags: the allow expects an end / the exit succeeded. */
const YES = 1;
/** flags: the session is hex (his/los); else its text is in `inline`, at `his`. */
const HEX = 2;

/** One batch: record i is kind[i], t[i], ...; `strings` and `rows` are new since the batch before. */
export interface ReportBatch {
  n: number;
  kind: Uint8Array;
  flags: Uint8Array;
  t: Float64Array;
  row: Int32Array;
  /** The key's fingerprint, or the cell text: a string number, -1 for none, or -2 - i for inline[i]. */
  key: Int32Array;
  text: Int32Array;
  his: Int32Array;
  los: Int32Array;
  /**
   * Per refusal, in order, four numbers: its reason (reasonKey), shortened
   * command and --suggest's candidate key (strings), and its record's place
   * in `records`, or -1 when it is not sent.
   */
  refusals: number[];
  /** Refused records, as JSON text: parsed only when the collector keeps one. */
  records: string[];
  strings: string[];
  /** New rows: policy, host, client, policy, host, client, ... */
  rows: string[];
  inline: string[];
  whole: AuditRecord[];
}

const empty = (): ReportBatch => {
  const n = REPORT_BATCH;
  return { n: 0, kind: new Uint8Array(n), flags: new Uint8Array(n), t: new Float64Array(n), row: new Int32Array(n), key: new Int32Array(n), text: new Int32Array(n), his: new Int32Array(n), los: new Int32Array(n), refusals: [], records: [], strings: [], rows: [], inline: [], whole: [] };
};

/** The worker's side: records in, batches out. */
export class ReportEncoder {
  private b = empty();
  private readonly strings = new Map<string, number>();
  private readonly cands = new Map<string, number>();
  /** Candidate numbers whose record went with a session surely in the timeline's nights. */
  private readonly sent = new Set<number>();

  /**
   * oldest: before it a refusal does not count (HtmlReport.oldest); sureFrom:
   * from it on, a session is in the timeline's nights whatever the policy's
   * zone and window (sureFrom()).
   */
  constructor(
    private readonly oldest: number,
    private readonly sureFrom: number,
    private readonly maxStrings = MAX_STRINGS,
  ) {}
  private readonly rows = new Map<string, Map<string, Map<string, number>>>();
  private rowCount = 0;
  private lastKey = '';
  private lastFingerprint = -1;

  /** Full batches not yet taken. */
  private readonly full: ReportBatch[] = [];

  add(r: AuditRecord, t: number): void {
    if (this.b.n === REPORT_BATCH) this.next();
    const b = this.b;
    const i = b.n++;
    b.t[i] = t;
    const e = r.event;
    if (r.cert || (e !== 'allow' && e !== 'exit' && e !== 'error' && e !== 'deny')) {
      b.kind[i] = WHOLE;
      b.row[i] = b.whole.length;
      b.whole.push(r);
      return;
    }
    b.row[i] = this.row(r.policy, r.hostname ?? '-', r.client?.addr ?? '-');
    if (r.key) {
      if (r.key !== this.lastKey) [this.lastKey, this.lastFingerprint] = [r.key, this.string(fingerprintOf(r.key))];
      b.key[i] = this.lastFingerprint;
    } else b.key[i] = -1;
    if (e === 'error') {
      b.kind[i] = ERROR;
      b.text[i] = this.string(errorText(r));
      return;
    }
    if (e === 'deny') {
      b.kind[i] = DENY;
      b.text[i] = this.string(r.reason);
      const cand = candidateKey(r);
      b.refusals.push(this.string(reasonKey(r)), this.string(shortCommand(r)), this.string(cand));
      // The collector keeps the record of a candidate's first session in the
      // timeline's nights. Which nights those are is the policy's (this
      // thread does not read it): the record goes with every session until
      // one surely in them has gone (every time when the key is not numbered).
      const cid = t < this.oldest ? -2 : this.candidate(`${r.policy}\0${cand}`);
      if (cid === -1 || (cid >= 0 && !this.sent.has(cid))) {
        if (cid >= 0 && t >= this.sureFrom) this.sent.add(cid);
        b.refusals.push(b.records.length);
        b.records.push(JSON.stringify(r));
      } else b.refusals.push(-1);
    }
    let flags = 0;
    if (hexHalves(r.session)) {
      flags = HEX;
      b.his[i] = halves.hi;
      b.los[i] = halves.lo;
    } else {
      b.his[i] = b.inline.length;
      b.inline.push(r.session);
    }
    if (e === 'deny') {
      // (kind and strings set above)
    } else if (e === 'allow') {
      b.kind[i] = ALLOW;
      if (expectsOutcome(r)) flags |= YES;
    } else {
      b.kind[i] = EXIT;
      const ok = isSuccessStatus(r.status, r.signal);
      if (ok) flags |= YES;
      b.text[i] = this.string(exitText(r, ok));
    }
    b.flags[i] = flags;
  }

  /** The full batches (all: and the one begun), in order; their typed arrays can be moved to the other thread. */
  take(all: boolean): ReportBatch[] {
    if (all && this.b.n > 0) this.next();
    return this.full.splice(0);
  }

  private next(): void {
    this.full.push(this.b);
    this.b = empty();
    // An inline string's number is the batch's own: the next batch looks the key up again.
    this.lastKey = '';
  }

  private string(s: string): number {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < this.maxStrings) {
      const id = this.strings.size;
      this.strings.set(s, id);
      this.b.strings.push(s);
      return id;
    }
    this.b.inline.push(s);
    return -1 - this.b.inline.length;
  }

  /** A candidate's number here (its policy and key), -1 once maxStrings are numbered. */
  private candidate(key: string): number {
    let id = this.cands.get(key);
    if (id === undefined && this.cands.size < this.maxStrings) this.cands.set(key, (id = this.cands.size));
    return id ?? -1;
  }

  private row(policy: string, host: string, client: string): number {
    let byHost = this.rows.get(policy);
    if (!byHost) this.rows.set(policy, (byHost = new Map()));
    let byClient = byHost.get(host);
    if (!byClient) byHost.set(host, (byClient = new Map()));
    let id = byClient.get(client);
    if (id === undefined) {
      byClient.set(client, (id = this.rowCount++));
      this.b.rows.push(policy, host, client);
    }
    return id;
  }
}

/** The typed arrays of a batch, for postMessage's transfer list. */
export const transferables = (b: ReportBatch): ArrayBuffer[] => [b.kind, b.flags, b.t, b.row, b.key, b.text, b.his, b.los].map((a) => a.buffer as ArrayBuffer);

/** This thread's side: batches in, in order, to the report. */
export class ReportDecoder {
  private readonly strings: string[] = [];
  private readonly rows: Row[] = [];
  constructor(private readonly report: HtmlReport) {}

  apply(b: ReportBatch): void {
    for (const s of b.strings) this.strings.push(s);
    for (let j = 0; j < b.rows.length; j += 3) this.rows.push(this.report.rowFor(b.rows[j]!, b.rows[j + 1]!, b.rows[j + 2]!));
    const { strings, rows, report } = this;
    // The batch's arrays in locals: a cloned object's properties are slow to look up in a loop.
    const { n, kind: kinds, flags: flagss, t: ts, row: rowIds, key: keys, text: texts, his, los, inline, whole, refusals } = b;
    let j = 0;
    const str = (id: number) => (id >= 0 ? strings[id]! : inline[-2 - id]!);
    const sessionOf = (i: number) => (flagss[i]! & HEX ? hexSession(his[i]!, los[i]!) : inline[his[i]!]!);
    for (let i = 0; i < n; i++) {
      const kind = kinds[i]!;
      const t = ts[i]!;
      if (kind === WHOLE) {
        report.add(whole[rowIds[i]!]!, t);
        continue;
      }
      const row = rows[rowIds[i]!]!;
      const key = keys[i]!;
      if (key !== -1) report.keyUsed(str(key), t, EVENT_NAMES[kind]!);
      switch (kind) {
        case ALLOW:
          report.allowed(row, t, sessionOf(i), (flagss[i]! & YES) !== 0);
          break;
        case EXIT:
          report.exited(row, t, sessionOf(i), (flagss[i]! & YES) !== 0, str(texts[i]!));
          break;
        case ERROR:
          report.errored(row, t, str(texts[i]!));
          break;
        case DENY: {
          const [reason, command, cand, rec] = [refusals[j]!, refusals[j + 1]!, refusals[j + 2]!, refusals[j + 3]!];
          j += 4;
          if (t < report.oldest) break;
          const record = rec >= 0 ? () => JSON.parse(b.records[rec]!) as AuditRecord : null;
          const collect = () => report.collector?.addKeyed(row.policy, str(cand), sessionOf(i), t, record);
          report.refused(row, t, row.policy, str(texts[i]!), str(reason), () => str(command), collect);
          break;
        }
      }
    }
  }
}

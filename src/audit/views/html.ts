// `audit --html FILE|-`: one self-contained page a person reads in the
// morning: the fleet in one line, a timeline of every host × policy × client
// over the last --days nights (each night the policy's backup window, in its
// time zone), the refusals grouped by reason and client with what --suggest
// would change, and the keys wired to the gate. No script, no external asset;
// the Content-Security-Policy forbids every load, and the one stylesheet is
// allowed by its hash. Every string from a record goes through the escaping
// template (html/template.ts).
//
// Memory grows with rows × nights (and a bounded map of sessions whose end
// has not been seen yet), not with the log.
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../join/transfer.js';
import { isSuccessStatus } from '../join/transfer.js';
import { parseRange, inRange } from '../../window.js';
import { age, bytes, localTime, shortCommand } from './format.js';
import { reasonKey } from './summary.js';
import type { SuggestCollector, PolicySuggestion, Change } from './suggest.js';
import type { View, ViewContext } from './view.js';
import { html, raw, type Html } from './html/template.js';
import { STYLE } from './html/style.js';
import { OpenSessions } from './html/open.js';
import { ZoneOffsets } from './html/zone.js';
import { NightCells, type Kind } from './html/cells.js';
import { VERSION } from '../../version.js';

/** A night's outcome: the states a cell can be in, worst last in `rank`. Symbol and text stand beside the colour. */
export const CELL_STATES = {
  completed: { symbol: '✓', text: 'completed', rank: 0 },
  running: { symbol: '▶', text: 'still running', rank: 1 },
  pending: { symbol: '·', text: 'not yet (the night is not over)', rank: 1 },
  unknown: { symbol: '?', text: 'allowed; its outcome is not logged (set transferLog in the policy)', rank: 2 },
  refused: { symbol: '⊘', text: 'refused', rank: 3 },
  nothing: { symbol: '–', text: 'nothing came', rank: 4 },
  failed: { symbol: '✗', text: 'failed', rank: 5 },
} as const;
export type CellState = keyof typeof CELL_STATES;


/** What a row knows of a policy's backup window (read from the policy file; records do not carry it). */
export interface PolicyWindow {
  window?: readonly string[];
  timezone?: string;
}

/**
 * How a policy's nights are counted. A night is a 24-hour slot of wall-clock
 * time in the policy's zone, centred on its window: it starts in the middle
 * of the longest stretch outside the window (noon to noon without a window),
 * and is named by the date on which it ends.
 */
export class NightPlan {
  /** Minute of the day a slot starts. */
  readonly anchor: number;
  /** Minutes from the slot's start until its window has closed (1440 without a window). */
  readonly close: number;
  readonly describe: string;
  private readonly zone: ZoneOffsets;

  /** zones: the report's table per zone, shared by the policies in the same zone. */
  constructor(
    readonly w: PolicyWindow | null,
    zones: Map<string, ZoneOffsets> = new Map(),
  ) {
    const name = w?.timezone;
    let table = zones.get(name ?? '');
    if (!table) zones.set(name ?? '', (table = new ZoneOffsets(name)));
    this.zone = table;
    const ranges = (w?.window ?? []).map(parseRange).filter((r) => r !== null);
    if (ranges.length === 0) {
      this.anchor = 12 * 60;
      this.close = 1440;
    } else {
      const allowed = (m: number) => ranges.some((r) => inRange(m, r));
      // The longest run of minutes outside every range (circular), and its middle.
      let best = 0;
      let bestStart = 0;
      for (let s = 0; s < 1440; s++) {
        if (allowed(s) || !allowed((s + 1439) % 1440)) continue;
        let n = 0;
        while (n < 1440 && !allowed((s + n) % 1440)) n++;
        if (n > best) [best, bestStart] = [n, s];
      }
      this.anchor = (bestStart + Math.floor(best / 2)) % 1440;
      let close = 0;
      for (let i = 0; i < 1440; i++) if (allowed((this.anchor + i) % 1440)) close = i + 1;
      this.close = close;
    }
    const zone = w?.timezone ?? (process.env.TZ || 'local time');
    this.describe = w === null ? `no policy file here: nights from noon to noon, ${zone}` : ranges.length ? `window ${w.window!.join(', ')}, ${zone}` : `no window: nights from noon to noon, ${zone}`;
  }

  /** Minutes east of UTC at t, in the policy's zone. */
  offset(t: number): number {
    return this.zone.offset(t);
  }

  /** The night t belongs to, as a day number (days since 1970-01-01 of the date the night ends on). */
  night(t: number): number {
    const local = t + this.offset(t) * 60_000;
    const day = Math.floor(local / 86_400_000);
    const m = Math.floor((local - day * 86_400_000) / 60_000);
    return this.anchor > 0 && m >= this.anchor ? day + 1 : day;
  }

  /** Minutes since the current slot started. */
  sinceSlotStart(t: number): number {
    const local = t + this.offset(t) * 60_000;
    const m = Math.floor((local - Math.floor(local / 86_400_000) * 86_400_000) / 60_000);
    return (m - this.anchor + 1440) % 1440;
  }

  /** "HH:MM" in the policy's zone. */
  clock(t: number): string {
    const d = new Date(t + this.offset(t) * 60_000);
    return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  }
}

/** Records older than the oldest night (plus a day for zones and windows) only count for "last success". */
export const oldestTime = (now: number, days: number): number => now - (days + 2) * 86_400_000;

const dayName = (day: number): string => {
  const d = new Date(day * 86_400_000);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
};

export interface Row {
  host: string;
  policy: string;
  client: string;
  plan: NightPlan;
  /** The night `now` is in. */
  current: number;
  /** Its first slot in the report's NightCells (the current night's; older nights follow), -1 until a cell is marked. */
  slot: number;
  lastSuccess: number | null;
  lastAllowed: number | null;
  outcomeKnown: boolean;
}

interface Open {
  readonly id: string;
  row: Row;
  night: number;
  t: number;
  expected: boolean;
}

interface RefusalGroup {
  policy: string;
  reason: string;
  sentence: string;
  client: string;
  hosts: Set<string>;
  count: number;
  last: number;
  command: string;
}

/** A key install wired to the gate (src/install/keys-list.ts's InstalledKey, the fields shown). */
export interface WiredKey {
  user: string;
  file: string;
  policy: string;
  fingerprint: string;
  comment: string;
  from: string[] | null;
  present: boolean;
}

export interface HtmlOptions {
  now: number;
  days: number;
  /** Policy windows by policy name; a name missing here is counted noon to noon in the local zone. */
  policies: ReadonlyMap<string, PolicyWindow>;
  /** The keys of install's manifest, or why they cannot be shown. */
  keys: { keys: WiredKey[]; source: string } | { problem: string };
  /** Collects the period's refusals for --suggest's answer. */
  collector?: SuggestCollector;
  suggest?: (c: SuggestCollector) => Promise<PolicySuggestion[]>;
  /** What was read, for the page's header. */
  sources?: string;
}

/** Sessions waiting for their end; beyond this the oldest is settled as if its end never came. */
const MAX_OPEN = 10_000;
/** An allowed session younger than this whose end has not come is still running. */
const RUNNING_MS = 24 * 3600e3;
const MAX_REFUSAL_GROUPS = 10_000;
const SHOWN_REFUSAL_GROUPS = 200;
const MAX_KEYS_SEEN = 10_000;
/** Certificate key IDs listed (by CA), at most; the note counts the rest. */
const MAX_CERTS_SEEN = 1000;

/** A certificate identity seen in the records: the CA and key ID, and what its sessions last looked like. */
interface CertSeen {
  keyId: string;
  ca: string;
  serial: string;
  principals: string[];
  validBefore: string | null;
  last: number;
  event: string;
  sessions: number;
}
/**
 * Timeline rows shown, worst first (as health.ts caps the metrics' groups):
 * a page is for reading, and its size must not grow with a flood of
 * clients. The fleet line still counts every row; the note names the rest.
 */
export const MAX_ROWS = 1000;

export class HtmlReport implements View {
  /** Rows by policy, host and client (nested: no key string built per record), and in a list. */
  private readonly rows = new Map<string, Map<string, Map<string, Row>>>();
  private readonly rowList: Row[] = [];
  private readonly plans = new Map<string, NightPlan>();
  private readonly zones = new Map<string, ZoneOffsets>();
  private cells: NightCells;
  private open = new OpenSessions<Open>();
  private readonly refusals = new Map<string, RefusalGroup>();
  private refusalsDropped = 0;
  private readonly keyUse = new Map<string, { t: number; event: string }>();
  private readonly certs = new Map<string, CertSeen>();
  private certsDropped = 0;
  /** The last record's key and its fingerprint: a fleet has few keys, each record a fresh copy of one. */
  private lastKey = '';
  private lastFingerprint = '';
  private readonly first: number;

  /** Records before this time count only for the rows' last success and last allowed session, and for the keys' last use. */
  get oldest(): number {
    return this.first;
  }

  constructor(private readonly o: HtmlOptions) {
    this.cells = new NightCells(o.days);
    this.first = oldestTime(o.now, o.days);
  }

  private row(r: AuditRecord): Row {
    return this.rowFor(r.policy, r.hostname ?? '-', r.client?.addr ?? '-');
  }

  /** The row of a policy, host and client (made when first asked for). */
  rowFor(policy: string, host: string, client: string): Row {
    let byHost = this.rows.get(policy);
    if (!byHost) this.rows.set(policy, (byHost = new Map()));
    let byClient = byHost.get(host);
    if (!byClient) byHost.set(host, (byClient = new Map()));
    let row = byClient.get(client);
    if (!row) {
      let plan = this.plans.get(policy);
      if (!plan) this.plans.set(policy, (plan = new NightPlan(this.o.policies.get(policy) ?? null, this.zones)));
      row = { host, policy, client, plan, current: plan.night(this.o.now), slot: -1, lastSuccess: null, lastAllowed: null, outcomeKnown: false };
      byClient.set(client, row);
      this.rowList.push(row);
    }
    return row;
  }

  /** Cell texts repeat ("rsync exit 0"): one copy each (bounded). */
  private readonly texts = new Map<string, string>();

  private mark(row: Row, night: number, kind: Kind, start: number, end: number | null, text: string): void {
    if (night > row.current || night <= row.current - this.o.days) return;
    const known = this.texts.get(text);
    if (known !== undefined) text = known;
    else if (this.texts.size < 10_000) this.texts.set(text, text);
    if (row.slot < 0) row.slot = this.cells.block();
    this.cells.mark(row.slot + row.current - night, kind, start, end, text);
  }

  private settle(o: Open, now: number): void {
    this.open.delete(o.id);
    if (!o.expected) this.mark(o.row, o.night, 'unknown', o.t, null, 'allowed; no outcome logged');
    else if (now - o.t < RUNNING_MS) this.mark(o.row, o.night, 'running', o.t, null, 'allowed; no end logged yet');
    else this.mark(o.row, o.night, 'failed', o.t, null, 'no end was logged (killed, or the transfer log is missing)');
  }

  /** A key's session (keys by fingerprint; the first MAX_KEYS_SEEN fingerprints are kept). */
  keyUsed(fp: string, t: number, event: string): void {
    const seen = this.keyUse.get(fp);
    if (seen) {
      if (t >= seen.t) {
        seen.t = t;
        seen.event = event;
      }
    } else if (this.keyUse.size < MAX_KEYS_SEEN) this.keyUse.set(fp, { t, event });
  }

  /** An allowed session: it waits for its end (expected: the record says one will be logged). */
  allowed(row: Row, t: number, session: string, expected: boolean): void {
    if (row.lastAllowed === null || t > row.lastAllowed) row.lastAllowed = t;
    if (t < this.first) return;
    this.open.set({ id: session, row, night: row.plan.night(t), t, expected });
    if (this.open.size > MAX_OPEN) {
      this.settle(this.open.shift()!, t);
    }
  }

  /** A session's end: its cell is the night it started (text: exitText's, unused before the oldest night). */
  exited(row: Row, t: number, session: string, ok: boolean, text: string): void {
    row.outcomeKnown = true;
    if (ok && (row.lastSuccess === null || t > row.lastSuccess)) row.lastSuccess = t;
    if (t < this.first) return;
    const o = this.open.get(session);
    if (o) this.open.delete(session);
    const start = o?.t ?? t;
    const night = o?.night ?? row.plan.night(t);
    this.mark(row, night, ok ? 'completed' : 'failed', start, t, text);
  }

  errored(row: Row, t: number, text: string): void {
    if (t >= this.first) this.mark(row, row.plan.night(t), 'failed', t, null, text);
  }

  add(r: AuditRecord, t: number): void {
    const row = this.row(r);
    if (r.key) {
      if (r.key !== this.lastKey) [this.lastKey, this.lastFingerprint] = [r.key, fingerprintOf(r.key)];
      this.keyUsed(this.lastFingerprint, t, r.event);
    }
    if (r.cert && r.event !== 'exit') this.certSeen(r.cert, t, r.event);
    switch (r.event) {
      case 'allow':
        this.allowed(row, t, r.session, expectsOutcome(r));
        return;
      case 'exit': {
        const ok = isSuccessStatus(r.status, r.signal);
        this.exited(row, t, r.session, ok, t < this.first ? '' : exitText(r, ok));
        return;
      }
      case 'error':
        this.errored(row, t, t < this.first ? '' : errorText(r));
        return;
      case 'deny':
        if (t >= this.first) this.refused(row, t, r.policy, r.reason, reasonKey(r), () => shortCommand(r), () => this.o.collector?.add(r, t));
        return;
    }
  }

  /**
   * A refused session: its cell, --suggest's collector (collect) and its
   * group by reason and client (command: the group's shortened command,
   * asked for when the group is new).
   */
  refused(row: Row, t: number, policy: string, sentence: string, reason: string, command: () => string, collect: () => void): void {
    const night = row.plan.night(t);
    this.mark(row, night, 'refused', t, null, `refused: ${sentence}`);
    if (night <= row.current - this.o.days) return;
    collect();
    const key = `${policy}\0${reason}\0${row.client}`;
    let g = this.refusals.get(key);
    if (!g) {
      if (this.refusals.size >= MAX_REFUSAL_GROUPS) {
        this.refusalsDropped++;
        return;
      }
      g = { policy, reason, sentence, client: row.client, hosts: new Set(), count: 0, last: t, command: command() };
      this.refusals.set(key, g);
    }
    g.count++;
    if (g.hosts.size < 20) g.hosts.add(row.host);
    if (t >= g.last) g.last = t;
  }

  /** The collector of --suggest's refusals, if the report has one (a split read's decoder feeds it). */
  get collector(): SuggestCollector | undefined {
    return this.o.collector;
  }

  /** The slot of a row's night, or -1 (no cell marked in the row, or a night the timeline does not show). */
  private slotOf(row: Row, night: number): number {
    const k = row.current - night;
    return row.slot < 0 || k < 0 || k >= this.o.days ? -1 : row.slot + k;
  }

  private cellKind(row: Row, night: number): Kind | null {
    const s = this.slotOf(row, night);
    return s < 0 ? null : this.cells.kindAt(s);
  }

  /** A row's state on a night: its cell's, or nothing came (not yet, for the current night before its window has closed). */
  private stateOf(row: Row, night: number): CellState {
    const kind = this.cellKind(row, night);
    if (kind !== null) return kind;
    if (night === row.current && row.plan.sinceSlotStart(this.o.now) < row.plan.close) return 'pending';
    return 'nothing';
  }

  /** Last night: the current one once anything came or its window has closed, else the one before. */
  private lastNight(row: Row): number {
    return this.stateOf(row, row.current) === 'pending' ? row.current - 1 : row.current;
  }

  async finish(ctx: ViewContext): Promise<string> {
    const now = this.o.now;
    for (const o of this.open.entries()) this.settle(o, now);
    collect(); // the read's garbage, before the page is built on top of it
    const suggestions = this.o.collector && this.o.suggest ? await this.o.suggest(this.o.collector) : [];
    const rows = [...this.rowList];
    const lastGood = (r: Row) => (r.outcomeKnown ? r.lastSuccess : r.lastAllowed);
    // A client never allowed (only refused) is not expected to come: its empty nights are no alarm.
    const rank = (r: Row, night: number) => {
      const s = this.stateOf(r, night);
      return s === 'nothing' && r.lastAllowed === null ? 0 : CELL_STATES[s].rank;
    };
    const bad = (r: Row) => {
      let n = 0;
      for (let k = 0; k < this.o.days; k++) if (rank(r, r.current - k) >= 3) n++;
      return n;
    };
    const sortKey = new Map(rows.map((r) => [r, { last: rank(r, this.lastNight(r)), bad: bad(r), good: lastGood(r) ?? -Infinity }]));
    rows.sort((a, b) => {
      const x = sortKey.get(a)!;
      const y = sortKey.get(b)!;
      return y.last - x.last || y.bad - x.bad || x.good - y.good || cmp(a.host, b.host) || cmp(a.policy, b.policy) || cmp(a.client, b.client);
    });
    const fleet = this.fleet(rows, ctx.staleMs);
    const timeline = this.timeline(rows);
    // The timeline holds what it shows of the cells: the rest of the page needs neither them nor the open sessions.
    this.cells = new NightCells(this.o.days);
    this.open = new OpenSessions<Open>();
    collect();
    const body = html`${fleet}${timeline}${this.refusalSection(suggestions)}${this.keysSection()}${this.certsSection()}`;
    const text = page(body, this.o.sources ?? '', now, this.o.days);
    collect(); // the pieces the page was joined from, before the write turns it into bytes
    return text;
  }

  private fleet(rows: Row[], staleMs: number): Html {
    const now = this.o.now;
    const hosts = new Set(rows.map((r) => r.host)).size;
    const clients = new Set(rows.map((r) => r.client)).size;
    const expected = rows.filter((r) => r.lastAllowed !== null || r.outcomeKnown);
    const fresh = expected.filter((r) => {
      const t = r.outcomeKnown ? r.lastSuccess : r.lastAllowed;
      return t !== null && now - t <= staleMs;
    }).length;
    let failed = 0;
    let refused = 0;
    for (const r of rows) {
      const s = this.stateOf(r, this.lastNight(r));
      if (s === 'failed') failed++;
      if (s === 'refused') refused++;
    }
    const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
    return html`<p class="fleet" id="fleet"><b>${plural(hosts, 'host')}</b>, <b>${plural(clients, 'client')}</b>, ${plural(rows.length, 'row')} (host × policy × client) · <span class="${fresh === expected.length ? 'good' : 'bad'}"><b>${fresh} of ${expected.length}</b> backed up within ${age(staleMs)}</span> · last night <span class="${failed ? 'bad' : 'good'}"><b>${failed}</b> failed</span>, <span class="${refused ? 'bad' : 'good'}"><b>${refused}</b> refused</span></p>`;
  }

  private timeline(rows: Row[]): Html {
    const days = this.o.days;
    // Column dates in the local zone's noon-to-noon nights; each cell's own date and zone are in its label.
    const local = new NightPlan({}, this.zones);
    const today = local.night(this.o.now);
    const heads: Html[] = [];
    for (let k = days - 1; k >= 0; k--) {
      const name = dayName(today - k);
      heads.push(html`<th class="d" scope="col" title="${`night ending ${name}`}">${name.slice(8)}<br>${name.slice(5, 7)}</th>`);
    }
    const legend = (Object.keys(CELL_STATES) as CellState[]).map((s) => html`<span class="${s}">${CELL_STATES[s].symbol} ${CELL_STATES[s].text}</span>`);
    const body = rows.slice(0, MAX_ROWS).map((r) => {
      const cells: Html[] = [];
      for (let k = days - 1; k >= 0; k--) {
        const night = r.current - k;
        const state = this.stateOf(r, night);
        const label = this.cellLabel(r, night, state);
        cells.push(html`<td class="n ${state}" data-state="${state}"><span tabindex="0" role="img" aria-label="${label}">${CELL_STATES[state].symbol}</span></td>`);
      }
      const good = r.outcomeKnown ? r.lastSuccess : r.lastAllowed;
      const last = good === null ? 'never' : `${localTime(good).slice(0, 16)} (${age(this.o.now - good)} ago)${r.outcomeKnown ? '' : '*'}`;
      return html`<tr data-host="${r.host}" data-policy="${r.policy}" data-client="${r.client}"><th scope="row">${r.host}</th><td>${r.policy}<br><small class="meta">${r.plan.describe}</small></td><td>${r.client}</td><td>${last}</td>${cells}</tr>`;
    });
    return html`<h2 id="timeline">Nights, worst first</h2>
<p class="legend">${legend}</p>
<table class="timeline"><thead><tr><th scope="col">Host</th><th scope="col">Policy</th><th scope="col">Client</th><th scope="col">Last success</th>${heads}</tr></thead>
<tbody>${body}</tbody></table>
${rows.length > MAX_ROWS ? html`<p class="note" id="rows-left-out">The ${MAX_ROWS} worst rows are shown; ${rows.length - MAX_ROWS} more, all better off, are left out: narrow the report with --host, --policy or --client.</p>` : ''}
<p class="note">One cell per night: a night is the policy's backup window in its time zone (noon to noon without one), named by the date it ends on; hover or focus a cell for its time, duration and outcome. * last allowed session: whether it finished is not logged.</p>`;
  }

  private cellLabel(r: Row, night: number, state: CellState): string {
    const head = `night ending ${dayName(night)}: ${CELL_STATES[state].text}`;
    const s = this.slotOf(r, night);
    const c = s < 0 ? null : this.cells.cell(s);
    if (!c) return head;
    const when = c.end !== null ? `${r.plan.clock(c.start)}–${r.plan.clock(c.end)}, took ${age(c.end - c.start)}` : `at ${r.plan.clock(c.start)}`;
    const others = c.counts.map(([k, n]) => `${n} ${k}`).join(', ');
    return `${head} · ${when} (${r.plan.w?.timezone ?? 'local time'}) · ${c.text} · sessions: ${others}`;
  }

  private refusalSection(suggestions: PolicySuggestion[]): Html {
    const groups = [...this.refusals.values()].sort((a, b) => b.count - a.count || b.last - a.last);
    if (groups.length === 0) return html`<h2 id="refusals">Refusals</h2><p class="note">No session was refused in these nights.</p>`;
    const shown = groups.slice(0, SHOWN_REFUSAL_GROUPS);
    const rows = shown.map(
      (g) =>
        html`<tr><td>${g.reason}<br><small class="meta">${g.sentence}</small></td><td>${g.client}</td><td>${g.policy}</td><td>${[...g.hosts].join(', ')}</td><td class="num">${g.count}</td><td>${localTime(g.last).slice(0, 16)}</td><td><code>${g.command}</code></td><td>${suggestionText(g, suggestions)}</td></tr>`,
    );
    const more = groups.length - shown.length + this.refusalsDropped;
    return html`<h2 id="refusals">Refusals, by reason and client</h2>
<table class="refusals"><thead><tr><th>Reason</th><th>Client</th><th>Policy</th><th>Hosts</th><th>Count</th><th>Last</th><th>Command (shortened)</th><th>What audit --suggest would change</th></tr></thead><tbody>${rows}</tbody></table>
${more > 0 ? html`<p class="note">and ${more} more groups (gatekeeper audit --summary lists them all)</p>` : ''}`;
  }

  /** One session's certificate (its decision record; the exit record is the same session). */
  private certSeen(c: NonNullable<AuditRecord['cert']>, t: number, event: string): void {
    const id = `${c.ca}\0${c.keyId}`;
    const seen = this.certs.get(id);
    if (!seen) {
      if (this.certs.size >= MAX_CERTS_SEEN) {
        this.certsDropped++;
        return;
      }
      this.certs.set(id, { keyId: c.keyId, ca: c.ca, serial: c.serial, principals: c.principals, validBefore: c.validBefore, last: t, event, sessions: 1 });
      return;
    }
    seen.sessions++;
    if (t >= seen.last) Object.assign(seen, { serial: c.serial, principals: c.principals, validBefore: c.validBefore, last: t, event });
  }

  private certsSection(): Html {
    if (this.certs.size === 0) return html``;
    const list = [...this.certs.values()].sort((a, b) => cmp(a.keyId, b.keyId) || cmp(a.ca, b.ca));
    const rows = list.map(
      (c) =>
        html`<tr><td>${c.keyId}</td><td class="num">${c.serial}</td><td>${c.principals.join(', ') || '(any)'}</td><td><code>${c.ca}</code></td><td>${c.validBefore === null ? 'forever' : localTime(Date.parse(c.validBefore)).slice(0, 16)}</td><td class="num">${c.sessions}</td><td>${localTime(c.last).slice(0, 16)} (${c.event})</td></tr>`,
    );
    return html`<h2 id="certificates">Certificates that came</h2><p class="meta">SSH certificates sessions logged in with, by key ID and CA (the latest serial); gatekeeper audit --key-id ID lists their sessions.</p>
<table class="certs"><thead><tr><th>Key ID</th><th>Serial</th><th>Principals</th><th>CA</th><th>Valid until</th><th>Sessions</th><th>Last</th></tr></thead><tbody>${rows}</tbody></table>
${this.certsDropped > 0 ? html`<p class="note">and ${this.certsDropped} more sessions of further certificates (the first ${MAX_CERTS_SEEN} are listed)</p>` : ''}`;
  }

  private keysSection(): Html {
    const k = this.o.keys;
    if ('problem' in k) return html`<h2 id="keys">Keys wired to the gate</h2><p class="note">${k.problem}</p>`;
    if (k.keys.length === 0) return html`<h2 id="keys">Keys wired to the gate</h2><p class="note">No keys recorded in ${k.source}.</p>`;
    const rows = k.keys.map((key) => {
      const use = this.keyUse.get(key.fingerprint);
      return html`<tr><td><code>${key.fingerprint}</code></td><td>${key.comment}</td><td>${key.policy}</td><td>${key.user}</td><td>${key.file}${key.present ? '' : ' (line changed since install)'}</td><td>${key.from?.join(', ') ?? 'any'}</td><td>${use ? `${localTime(use.t).slice(0, 16)} (${use.event})` : 'not in these records'}</td></tr>`;
    });
    return html`<h2 id="keys">Keys wired to the gate</h2><p class="meta">As recorded in ${k.source} (gatekeeper keys).</p>
<table class="keys"><thead><tr><th>Fingerprint</th><th>Comment</th><th>Policy</th><th>User</th><th>authorized_keys</th><th>From</th><th>Last use</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A record's key's fingerprint (the key is "TYPE SHA256:..."). */
export const fingerprintOf = (key: string): string => key.slice(key.indexOf(' ') + 1);

/** Whether an allow record says its end will be logged: a transfer log to join, or the gate waits for rsync (spawn). */
export const expectsOutcome = (r: AuditRecord): boolean => r.transferLog !== undefined || r.exec === 'spawn';

/** An exit's cell text (ok: isSuccessStatus's answer for it). */
export function exitText(r: AuditRecord, ok: boolean): string {
  const moved = r.transfer ? `; sent ${bytes(r.transfer.sent)}, received ${bytes(r.transfer.received)}` : '';
  return ok ? `rsync exit ${r.status ?? 0}${moved}` : `${r.signal ? `rsync killed by ${r.signal}` : `rsync exit ${r.status ?? '?'}`}: ${r.reason}`;
}

export const errorText = (r: AuditRecord): string => `error: ${r.reason}`;

function changeText(ch: Change): string {
  switch (ch.key) {
    case 'access':
      return 'access: read-write';
    case 'delete':
      return 'delete: true';
    case 'options.allow':
      return `options.allow: add ${String(ch.value)}`;
    case 'options.deny':
      return `options.deny: remove ${String(ch.value)}`;
    case 'from':
      return `from: add ${String(ch.value)}`;
  }
}

/** --suggest's answer for one group: the changes its commands need, or why none is suggested. */
function suggestionText(g: RefusalGroup, list: PolicySuggestion[]): string {
  const s = list.find((x) => x.policy === g.policy);
  if (!s) return '';
  const mine = (c: { record: AuditRecord }) => (c.record.client?.addr ?? '-') === g.client && reasonKey(c.record) === g.reason;
  const changes = s.changes.filter((ch) => ch.needs.some(mine)).map(changeText);
  if (changes.length) return changes.join('; ');
  const stuck = s.lookInto.find((l) => mine(l.candidate));
  if (stuck) return `no change: ${s.problem ?? stuck.reason}`;
  if (s.alreadyAllowed.some(mine)) return 'none: the policy allows it now';
  return s.problem ?? '';
}

/**
 * A full collection, when audit was started with --expose-gc (the restart
 * for a big read adds it, src/audit/read/memory.ts): the page is built in a
 * few large steps, and without one V8 lets the garbage of the step before
 * stand beside it.
 */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function page(body: Html, sources: string, now: number, days: number): string {
  const hash = createHash('sha256').update(STYLE).digest('base64');
  const csp = `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'`;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gatekeeper backups</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<h1>gatekeeper backups: the last ${days} nights</h1>
<p class="meta">Computed ${localTime(now)} (${process.env.TZ || 'local time'}) by gatekeeper ${VERSION}${sources ? ` from ${sources}` : ''}.</p>
${body}
</body>
</html>
`.text;
}

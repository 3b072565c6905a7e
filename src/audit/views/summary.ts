// `audit --summary`: per policy and client, are backups happening and who is
// knocking on the wrong door. Memory grows with the number of (policy,
// client) pairs, not with the log.
import { age, localTime, type Paint, truncate, visible } from './format.js';
import { isSuccessStatus, type AuditRecord } from '../join/transfer.js';
import { halves, hexHalves, hexSession } from '../session.js';

export interface GroupSummary {
  /** The server (the record's hostname, or its syslog/journald carrier's); `-` when unknown. */
  host: string;
  policy: string;
  client: string;
  /** The SSH certificate's key ID the group's sessions came with; null for a plain key (or no ExposeAuthInfo). */
  keyId: string | null;
  allowed: number;
  refused: number;
  /** error records, plus runs that ended with a failing status or a signal. */
  failed: number;
  /** Runs known to have finished successfully (exit records). */
  succeeded: number;
  /** Allowed only because the policy is permissive (wouldDeny). */
  wouldDeny: number;
  first: number;
  last: number;
  lastAllowed: number | null;
  /** The last run that really finished (exit 0 or 24); needs transferLog or the spawn fallback. */
  lastSuccess: { t: number; session: string; sent: number | null; received: number | null } | null;
  /** Whether any run's outcome was seen for this group (else "last success" cannot be known). */
  outcomeKnown: boolean;
  /** Refusal reasons, most common first. */
  reasons: { reason: string; count: number }[];
}

/**
 * A group while records are added. The times are plain numbers, NaN for
 * "none yet", and the last success is kept in fields of its own: a field that
 * holds null as well as numbers boxes every number stored in it, and a new
 * object per success is one more, so each allowed or finished run left
 * garbage in the old generation (the groups live there). result() turns
 * them into GroupSummary's nulls and objects.
 */
interface Group {
  host: string;
  policy: string;
  client: string;
  keyId: string | null;
  allowed: number;
  refused: number;
  failed: number;
  succeeded: number;
  wouldDeny: number;
  first: number;
  last: number;
  lastAllowed: number;
  successT: number;
  /** The last success's session: its halves when hex (session.ts), else its text. */
  successHex: boolean;
  successHi: number;
  successLo: number;
  successSession: string;
  successSent: number | null;
  successReceived: number | null;
  outcomeKnown: boolean;
  reasons: Map<string, number>;
}

/** One client's groups: its sessions without a certificate, and by certificate key ID. */
interface ClientGroups {
  plain: Group | null;
  certs: Map<string, Group> | null;
}

const compareKeyId = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

/** Distinct reasons kept per group; more are counted as "(other reasons)". */
const MAX_REASONS = 200;
const OTHER = '(other reasons)';

/** The words a refusal is known by: its code and the options it concerns, or its sentence. */
export function reasonKey(r: AuditRecord): string {
  if (!r.code) return r.reason;
  // `options` lists every option a refusal concerned; it names this code's cause only for option refusals.
  const aboutOptions = /option|refused/.test(r.code);
  return aboutOptions && r.options?.length ? `${r.code} ${r.options.join(' ')}` : r.code;
}

/** A Summary's groups, by host, policy, client and key ID (Summary.state). */
export type SummaryState = Map<string, Map<string, Map<string, ClientGroups>>>;

function* groupsOf(state: SummaryState): Generator<Group> {
  for (const byPolicy of state.values()) {
    for (const byClient of byPolicy.values()) {
      for (const slot of byClient.values()) {
        if (slot.plain) yield slot.plain;
        if (slot.certs) yield* slot.certs.values();
      }
    }
  }
}

export class Summary {
  /**
   * By host, policy, client and certificate key ID: nested maps of the
   * record's own strings, so no key is built per record. A session without a
   * certificate is the client's `plain` group (no key ID string stands for
   * "none": the CA's text may be anything, even "-"), found without a
   * fourth map lookup, so a log of plain keys reads as fast as before.
   */
  private readonly groups: SummaryState = new Map();

  add(r: AuditRecord, t: number): void {
    const g = this.group(r.hostname ?? '-', r.policy, r.client?.addr ?? '-', r.cert?.keyId ?? null, t);
    if (t < g.first) g.first = t;
    if (t > g.last) g.last = t;
    switch (r.event) {
      case 'allow':
        g.allowed++;
        if (Number.isNaN(g.lastAllowed) || t > g.lastAllowed) g.lastAllowed = t;
        if (r.wouldDeny !== undefined) {
          g.wouldDeny++;
          this.countReason(g, `would deny: ${reasonKey(r)}`);
        }
        break;
      case 'deny':
        g.refused++;
        this.countReason(g, reasonKey(r));
        break;
      case 'error':
        g.failed++;
        this.countReason(g, `error: ${reasonKey(r)}`);
        break;
      case 'exit':
        g.outcomeKnown = true;
        if (isSuccessStatus(r.status, r.signal)) {
          g.succeeded++;
          if (Number.isNaN(g.successT) || t > g.successT) {
            g.successT = t;
            g.successHex = hexHalves(r.session);
            if (g.successHex) {
              g.successHi = halves.hi;
              g.successLo = halves.lo;
            } else g.successSession = r.session;
            g.successSent = r.transfer?.sent ?? null;
            g.successReceived = r.transfer?.received ?? null;
          }
        } else g.failed++;
        break;
    }
  }

  /** The group of (host, policy, client, key ID), made with first and last at t when new. */
  private group(host: string, policy: string, client: string, keyId: string | null, t: number): Group {
    let byPolicy = this.groups.get(host);
    if (!byPolicy) this.groups.set(host, (byPolicy = new Map()));
    let byClient = byPolicy.get(policy);
    if (!byClient) byPolicy.set(policy, (byClient = new Map()));
    let slot = byClient.get(client);
    if (!slot) byClient.set(client, (slot = { plain: null, certs: null }));
    let g = keyId === null ? slot.plain : slot.certs?.get(keyId);
    if (!g) {
      g = {
        host,
        policy,
        client,
        keyId,
        allowed: 0,
        refused: 0,
        failed: 0,
        succeeded: 0,
        wouldDeny: 0,
        first: t,
        last: t,
        lastAllowed: Number.NaN,
        successT: Number.NaN,
        successHex: false,
        successHi: 0,
        successLo: 0,
        successSession: '',
        successSent: null,
        successReceived: null,
        outcomeKnown: false,
        reasons: new Map(),
      };
      if (keyId === null) slot.plain = g;
      else (slot.certs ??= new Map()).set(keyId, g);
    }
    return g;
  }

  /**
   * The groups as they stand, to carry to another thread (a structured clone
   * keeps the Maps, their order and NaN): the second part of a split read
   * (read/split.ts) sends its own.
   */
  get state(): SummaryState {
    return this.groups;
  }

  /** Whether absorb(state) gives what adding its records after these would: not when a group of it ran out of room for reasons. */
  static absorbable(state: SummaryState): boolean {
    for (const g of groupsOf(state)) if (g.reasons.has(OTHER)) return false;
    return true;
  }

  /**
   * Add the groups of records that came after these (an absorbable state):
   * counts add up, first and last are the extremes, a later success or
   * allowed session replaces an earlier one only when strictly later (as
   * add() does), and reasons new to a group take its free places in the
   * order they first came.
   */
  absorb(state: SummaryState): void {
    for (const o of groupsOf(state)) {
      const g = this.group(o.host, o.policy, o.client, o.keyId, o.first);
      g.allowed += o.allowed;
      g.refused += o.refused;
      g.failed += o.failed;
      g.succeeded += o.succeeded;
      g.wouldDeny += o.wouldDeny;
      if (o.first < g.first) g.first = o.first;
      if (o.last > g.last) g.last = o.last;
      if (Number.isNaN(g.lastAllowed) || o.lastAllowed > g.lastAllowed) g.lastAllowed = o.lastAllowed;
      if (Number.isNaN(g.successT) || o.successT > g.successT) {
        g.successT = o.successT;
        g.successHex = o.successHex;
        g.successHi = o.successHi;
        g.successLo = o.successLo;
        g.successSession = o.successSession;
        g.successSent = o.successSent;
        g.successReceived = o.successReceived;
      }
      g.outcomeKnown ||= o.outcomeKnown;
      for (const [reason, count] of o.reasons) this.countReason(g, reason, count);
    }
  }

  private countReason(g: Group, reason: string, n = 1): void {
    const known = g.reasons.get(reason);
    if (known !== undefined) g.reasons.set(reason, known + n);
    else if (g.reasons.size < MAX_REASONS) g.reasons.set(reason, n);
    else g.reasons.set(OTHER, (g.reasons.get(OTHER) ?? 0) + n);
  }

  /** Groups by host, then policy, then client, then key ID (plain keys first). */
  result(): GroupSummary[] {
    return [...groupsOf(this.groups)]
      .map(
        (g): GroupSummary => ({
          host: g.host,
          policy: g.policy,
          client: g.client,
          keyId: g.keyId,
          allowed: g.allowed,
          refused: g.refused,
          failed: g.failed,
          succeeded: g.succeeded,
          wouldDeny: g.wouldDeny,
          first: g.first,
          last: g.last,
          lastAllowed: Number.isNaN(g.lastAllowed) ? null : g.lastAllowed,
          lastSuccess: Number.isNaN(g.successT) ? null : { t: g.successT, session: g.successHex ? hexSession(g.successHi, g.successLo) : g.successSession, sent: g.successSent, received: g.successReceived },
          outcomeKnown: g.outcomeKnown,
          reasons: [...g.reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
        }),
      )
      .sort((a, b) => a.host.localeCompare(b.host) || a.policy.localeCompare(b.policy) || a.client.localeCompare(b.client) || compareKeyId(a.keyId, b.keyId));
  }
}

export interface SummaryView {
  now: number;
  /** A group whose last success (or, without outcomes, last allowed session) is older than this gets a warning. */
  staleMs: number;
  paint: Paint;
}

/** The last time a backup is known to have happened, and whether that is a real finish or only an allowed start. */
function lastGood(g: GroupSummary): { t: number | null; finished: boolean } {
  if (g.outcomeKnown) return { t: g.lastSuccess?.t ?? null, finished: true };
  return { t: g.lastAllowed, finished: false };
}

/** The text summary: one table, then what needs attention, in sentences. */
export function renderSummary(groups: GroupSummary[], view: SummaryView): string {
  const p = view.paint;
  // The HOST column only when there is more than one host to tell apart.
  const withHost = new Set(groups.map((g) => g.host)).size > 1;
  // The KEY ID column only when some session came with a certificate.
  const withKeyId = groups.some((g) => g.keyId !== null);
  const head = [...(withHost ? ['HOST'] : []), 'POLICY', 'CLIENT', ...(withKeyId ? ['KEY ID'] : []), 'ALLOWED', 'REFUSED', 'FAILED', 'FIRST SEEN', 'LAST SEEN', 'LAST SUCCESS', 'TOP REFUSALS'];
  const numeric = new Set(['ALLOWED', 'REFUSED', 'FAILED'].map((h) => head.indexOf(h)));
  const rows = groups.map((g) => {
    const good = lastGood(g);
    let last: string;
    if (good.t === null) last = g.outcomeKnown ? 'never' : '-';
    else last = `${localTime(good.t).slice(0, 16)} (${age(view.now - good.t)} ago)${good.finished ? '' : '*'}`;
    const refusals = g.reasons
      .slice(0, 2)
      .map((r) => `${truncate(visible(r.reason), 40)} ×${r.count}`)
      .join('; ');
    return [...(withHost ? [visible(g.host)] : []), visible(g.policy), visible(g.client), ...(withKeyId ? [g.keyId === null ? '-' : visible(g.keyId)] : []), String(g.allowed), String(g.refused), String(g.failed), localTime(g.first).slice(0, 16), localTime(g.last).slice(0, 16), last, refusals];
  });
  // A loop, not Math.max(...rows): a fleet's summary has more rows than a call has room for arguments.
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [p('bold', line(head)), ...rows.map(line)];
  if (groups.some((g) => !g.outcomeKnown && g.lastAllowed !== null)) {
    out.push('', p('dim', '* last allowed session; whether it finished is unknown (set transferLog in the policy to record outcomes)'));
  }
  const attention = attentionLines(groups, view, withHost);
  if (attention.length > 0) out.push('', p('bold', 'Needs attention:'), ...attention.map((a) => `  ${a}`));
  return out.join('\n') + '\n';
}

/** "host X has not backed up for 3 days", "203.0.113.9 keeps trying --log-file". */
export function attentionLines(groups: GroupSummary[], view: SummaryView, withHost = new Set(groups.map((g) => g.host)).size > 1): string[] {
  const p = view.paint;
  const out: string[] = [];
  for (const g of groups) {
    const good = lastGood(g);
    const cert = g.keyId === null ? '' : `, certificate ${g.keyId}`;
    const who = visible(withHost ? `${g.client} (policy ${g.policy} on ${g.host}${cert})` : `${g.client} (policy ${g.policy}${cert})`);
    if (g.allowed > 0 || g.outcomeKnown) {
      if (good.t === null) {
        out.push(p('red', `${who}: no successful session in the log`));
      } else if (view.now - good.t > view.staleMs) {
        const what = good.finished ? 'no successful session' : 'no allowed session';
        out.push(p('red', `${who}: ${what} for ${age(view.now - good.t)} (last ${localTime(good.t).slice(0, 16)})`));
      }
    } else if (g.refused > 0) {
      out.push(p('yellow', `${who}: ${g.refused} refused, never allowed`));
    }
    const top = g.reasons[0];
    if (top && g.refused + g.wouldDeny >= 3 && top.count >= 3) {
      out.push(p('yellow', `${who}: keeps being refused: ${visible(top.reason)} ×${top.count}`));
    }
    if (g.wouldDeny > 0) out.push(p('yellow', `${who}: ${g.wouldDeny} session(s) only allowed because the policy is permissive (enforce: false); see --suggest`));
  }
  return out;
}

/** `--summary --json`: one object per (host, policy, client, key ID), times as ISO strings; host null when unknown, keyId null without a certificate. */
export function summaryJson(g: GroupSummary): string {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return JSON.stringify({
    host: g.host === '-' ? null : g.host,
    policy: g.policy,
    client: g.client,
    keyId: g.keyId,
    allowed: g.allowed,
    refused: g.refused,
    failed: g.failed,
    succeeded: g.succeeded,
    wouldDeny: g.wouldDeny,
    first: iso(g.first),
    last: iso(g.last),
    lastAllowed: iso(g.lastAllowed),
    lastSuccess: g.lastSuccess ? { ...g.lastSuccess, t: undefined, time: iso(g.lastSuccess.t) } : null,
    outcomeKnown: g.outcomeKnown,
    reasons: g.reasons.slice(0, 10),
  });
}

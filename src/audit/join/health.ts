// What `audit --metrics` and `audit --check` need to know per host, policy and
// client: when a backup last succeeded, was last allowed or refused, how the
// last run ended, and what happened within a look-back window ending at "now".
// Memory grows with the number of groups, not with the log; the number of
// groups is capped so that a flood of clients cannot grow the output (and a
// Prometheus server's series) without bound.
import { OTHER_CODE, refusalLabel } from '../../log/codes.js';
import { isSuccessStatus, type AuditRecord } from './transfer.js';

export interface LastTransfer {
  t: number;
  /** rsync's exit status; null when it is not known (a run killed outright). */
  status: number | null;
  signal: string | null;
  sent: number | null;
  received: number | null;
}

export interface HealthGroup {
  /** The server that logged the records; '' when the records do not say. */
  host: string;
  policy: string;
  /** The client's address; '' when the record has none. */
  client: string;
  lastSuccess: number | null;
  lastAllowed: number | null;
  lastRefused: number | null;
  /** The last run whose end is known (an exit record), successful or not. */
  lastTransfer: LastTransfer | null;
  /** Whether any run's outcome was seen (else a success cannot be known: no transferLog and no spawn fallback). */
  outcomeKnown: boolean;
  /** Within the look-back window. */
  recent: { allowed: number; refused: number; failed: number; refusedByCode: Map<string, number> };
}

/** Groups kept; records of any further (host, policy, client) count under client OVERFLOW_CLIENT. */
export const MAX_GROUPS = 1000;
export const OVERFLOW_CLIENT = 'other';

/**
 * Per SSH certificate identity: the sessions that came with a certificate,
 * by host, policy and key ID (the CA's `-I`). Not by client too: the key ID
 * says who, the address where from, and their product would multiply the
 * series. Key IDs are chosen by whoever runs the CA, and a CA that issues
 * one per machine per day would make a new series every day: so they are
 * capped separately (MAX_KEY_IDS), beyond which they count as OVERFLOW_KEY_ID.
 */
export interface CertGroup {
  host: string;
  policy: string;
  keyId: string;
  lastAllowed: number | null;
  lastSuccess: number | null;
  recent: { allowed: number; refused: number };
}

/** (host, policy, key ID) groups kept; further key IDs count under OVERFLOW_KEY_ID. */
export const MAX_KEY_IDS = 200;
export const OVERFLOW_KEY_ID = 'other';

/**
 * A group while records are added: times as plain numbers (NaN: none yet)
 * and the last transfer in fields of its own, so that storing a time boxes
 * nothing and a finished run allocates no object (the groups live in the old
 * generation; summary.ts does the same). result() gives HealthGroup's shape.
 */
interface Collecting {
  host: string;
  policy: string;
  client: string;
  lastSuccess: number;
  lastAllowed: number;
  lastRefused: number;
  transferT: number;
  transferStatus: number | null;
  transferSignal: string | null;
  transferSent: number | null;
  transferReceived: number | null;
  outcomeKnown: boolean;
  recent: HealthGroup['recent'];
}

const none = (t: number): number | null => (Number.isNaN(t) ? null : t);

export class HealthCollector {
  /** By host, policy and client: nested maps of the record's own strings, so no key is built per record. */
  private readonly groups = new Map<string, Map<string, Map<string, Collecting>>>();
  private count = 0;
  private readonly certs = new Map<string, CertGroup>();
  /** Records at or after this time count in `recent`. */
  readonly windowStart: number;

  constructor(
    readonly now: number,
    readonly lookbackMs: number,
  ) {
    this.windowStart = now - lookbackMs;
  }

  private group(r: AuditRecord): Collecting {
    // A label value must be a string whatever a forwarded log put there.
    const host = typeof r.hostname === 'string' ? r.hostname : '';
    let byPolicy = this.groups.get(host);
    if (!byPolicy) this.groups.set(host, (byPolicy = new Map()));
    let byClient = byPolicy.get(r.policy);
    if (!byClient) byPolicy.set(r.policy, (byClient = new Map()));
    let client = r.client?.addr ?? '';
    let g = byClient.get(client);
    if (g) return g;
    if (this.count >= MAX_GROUPS) {
      client = OVERFLOW_CLIENT;
      g = byClient.get(client);
      if (g) return g;
    }
    g = {
      host,
      policy: r.policy,
      client,
      lastSuccess: Number.NaN,
      lastAllowed: Number.NaN,
      lastRefused: Number.NaN,
      transferT: Number.NaN,
      transferStatus: null,
      transferSignal: null,
      transferSent: null,
      transferReceived: null,
      outcomeKnown: false,
      recent: { allowed: 0, refused: 0, failed: 0, refusedByCode: new Map() },
    };
    byClient.set(client, g);
    this.count++;
    return g;
  }

  private certGroup(host: string, policy: string, keyId: string): CertGroup {
    let key = `${host}\0${policy}\0${keyId}`;
    let c = this.certs.get(key);
    if (c) return c;
    if (this.certs.size >= MAX_KEY_IDS) {
      keyId = OVERFLOW_KEY_ID;
      key = `${host}\0${policy}\0${keyId}`;
      c = this.certs.get(key);
      if (c) return c;
    }
    c = { host, policy, keyId, lastAllowed: null, lastSuccess: null, recent: { allowed: 0, refused: 0 } };
    this.certs.set(key, c);
    return c;
  }

  add(r: AuditRecord, t: number): void {
    const g = this.group(r);
    const recent = t >= this.windowStart;
    if (r.cert && typeof r.cert.keyId === 'string') {
      const later = (prev: number | null) => prev === null || t > prev;
      const c = this.certGroup(g.host, r.policy, r.cert.keyId);
      if (r.event === 'allow') {
        if (later(c.lastAllowed)) c.lastAllowed = t;
        if (recent) c.recent.allowed++;
      } else if (r.event === 'deny' && recent) c.recent.refused++;
      else if (r.event === 'exit' && isSuccessStatus(r.status, r.signal) && later(c.lastSuccess)) c.lastSuccess = t;
    }
    switch (r.event) {
      case 'allow':
        if (Number.isNaN(g.lastAllowed) || t > g.lastAllowed) g.lastAllowed = t;
        if (recent) g.recent.allowed++;
        break;
      case 'deny':
        if (Number.isNaN(g.lastRefused) || t > g.lastRefused) g.lastRefused = t;
        if (recent) {
          g.recent.refused++;
          const code = refusalLabel(r.code);
          g.recent.refusedByCode.set(code, (g.recent.refusedByCode.get(code) ?? 0) + 1);
        }
        break;
      case 'error':
        if (recent) g.recent.failed++;
        break;
      case 'exit': {
        g.outcomeKnown = true;
        const ok = isSuccessStatus(r.status, r.signal);
        if (ok && (Number.isNaN(g.lastSuccess) || t > g.lastSuccess)) g.lastSuccess = t;
        if (!ok && recent) g.recent.failed++;
        if (Number.isNaN(g.transferT) || t >= g.transferT) {
          g.transferT = t;
          g.transferStatus = r.status ?? null;
          g.transferSignal = r.signal ?? null;
          g.transferSent = r.transfer?.sent ?? null;
          g.transferReceived = r.transfer?.received ?? null;
        }
        break;
      }
    }
  }

  /** Groups by host, policy, then client. */
  result(): HealthGroup[] {
    const all: HealthGroup[] = [];
    for (const byPolicy of this.groups.values()) {
      for (const byClient of byPolicy.values()) {
        for (const g of byClient.values()) {
          all.push({
            host: g.host,
            policy: g.policy,
            client: g.client,
            lastSuccess: none(g.lastSuccess),
            lastAllowed: none(g.lastAllowed),
            lastRefused: none(g.lastRefused),
            lastTransfer: Number.isNaN(g.transferT)
              ? null
              : { t: g.transferT, status: g.transferStatus, signal: g.transferSignal, sent: g.transferSent, received: g.transferReceived },
            outcomeKnown: g.outcomeKnown,
            recent: g.recent,
          });
        }
      }
    }
    return all.sort((a, b) => cmp(a.host, b.host) || cmp(a.policy, b.policy) || cmp(a.client, b.client));
  }

  /** Certificate identities by host, policy, then key ID. */
  certificates(): CertGroup[] {
    return [...this.certs.values()].sort((a, b) => cmp(a.host, b.host) || cmp(a.policy, b.policy) || cmp(a.keyId, b.keyId));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The last time a backup is known to have happened, and whether that is a real finish or only an allowed start. */
export function lastGood(g: HealthGroup): { t: number | null; finished: boolean } {
  if (g.outcomeKnown) return { t: g.lastSuccess, finished: true };
  return { t: g.lastAllowed, finished: false };
}

export { OTHER_CODE };

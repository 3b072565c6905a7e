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

export class HealthCollector {
  private readonly groups = new Map<string, HealthGroup>();
  private readonly certs = new Map<string, CertGroup>();
  /** Records at or after this time count in `recent`. */
  readonly windowStart: number;

  constructor(
    readonly now: number,
    readonly lookbackMs: number,
  ) {
    this.windowStart = now - lookbackMs;
  }

  private group(r: AuditRecord): HealthGroup {
    // A label value must be a string whatever a forwarded log put there.
    const host = typeof r.hostname === 'string' ? r.hostname : '';
    let client = r.client?.addr ?? '';
    let key = `${host}\0${r.policy}\0${client}`;
    let g = this.groups.get(key);
    if (g) return g;
    if (this.groups.size >= MAX_GROUPS) {
      client = OVERFLOW_CLIENT;
      key = `${host}\0${r.policy}\0${client}`;
      g = this.groups.get(key);
      if (g) return g;
    }
    g = {
      host,
      policy: r.policy,
      client,
      lastSuccess: null,
      lastAllowed: null,
      lastRefused: null,
      lastTransfer: null,
      outcomeKnown: false,
      recent: { allowed: 0, refused: 0, failed: 0, refusedByCode: new Map() },
    };
    this.groups.set(key, g);
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
    const later = (prev: number | null) => prev === null || t > prev;
    if (r.cert && typeof r.cert.keyId === 'string') {
      const c = this.certGroup(g.host, r.policy, r.cert.keyId);
      if (r.event === 'allow') {
        if (later(c.lastAllowed)) c.lastAllowed = t;
        if (recent) c.recent.allowed++;
      } else if (r.event === 'deny' && recent) c.recent.refused++;
      else if (r.event === 'exit' && isSuccessStatus(r.status, r.signal) && later(c.lastSuccess)) c.lastSuccess = t;
    }
    switch (r.event) {
      case 'allow':
        if (later(g.lastAllowed)) g.lastAllowed = t;
        if (recent) g.recent.allowed++;
        break;
      case 'deny':
        if (later(g.lastRefused)) g.lastRefused = t;
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
        if (ok && later(g.lastSuccess)) g.lastSuccess = t;
        if (!ok && recent) g.recent.failed++;
        if (g.lastTransfer === null || t >= g.lastTransfer.t) {
          g.lastTransfer = { t, status: r.status ?? null, signal: r.signal ?? null, sent: r.transfer?.sent ?? null, received: r.transfer?.received ?? null };
        }
        break;
      }
    }
  }

  /** Certificate identities by host, policy, then key ID. */
  certificates(): CertGroup[] {
    return [...this.certs.values()].sort((a, b) => cmp(a.host, b.host) || cmp(a.policy, b.policy) || cmp(a.keyId, b.keyId));
  }

  /** Groups by host, policy, then client. */
  result(): HealthGroup[] {
    return [...this.groups.values()].sort((a, b) => cmp(a.host, b.host) || cmp(a.policy, b.policy) || cmp(a.client, b.client));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The last time a backup is known to have happened, and whether that is a real finish or only an allowed start. */
export function lastGood(g: HealthGroup): { t: number | null; finished: boolean } {
  if (g.outcomeKnown) return { t: g.lastSuccess, finished: true };
  return { t: g.lastAllowed, finished: false };
}

export { OTHER_CODE };

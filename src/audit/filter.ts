// The record filters of `gatekeeper audit`, parsed once into a predicate.
import { addressInList, parseIp, validAddressEntry } from '../net.js';
import type { AuditRecord } from './join/transfer.js';

export const DECISIONS = ['allow', 'deny', 'error', 'exit', 'describe', 'answer', 'grant'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface FilterOptions {
  since?: string;
  until?: string;
  policy?: string[];
  decision?: string[];
  client?: string[];
  user?: string[];
  /** Host names, with shell-style wildcards (`*`, `?`, `[...]`); `-` is a record with no known host. */
  host?: string[];
  /** Certificate key IDs, with the same wildcards, case-sensitive; `-` is a record with no certificate. */
  keyId?: string[];
  grep?: string;
}

export interface RecordFilter {
  /** Inclusive lower bound in ms, or -Infinity. */
  since: number;
  /** Exclusive upper bound in ms, or +Infinity. */
  until: number;
  /** The events --decision lets through (with `allow`, also `exit`), or null when every event can show. */
  events: ReadonlySet<string> | null;
  test(record: AuditRecord, t: number): boolean;
}

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * A point in time: a duration back from now (`90m`, `36h`, `3d`, `1d12h`,
 * `2w`), or an ISO 8601 date or date-time. Without a zone it is local time
 * (TZ), as an admin reads a wall clock: `2026-11-25` is local midnight.
 */
export function parseTimePoint(text: string, now: number): number {
  const s = text.trim();
  if (/^(\d+[smhdw])+$/.test(s)) {
    let ms = 0;
    for (const [, n, unit] of s.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNITS[unit!]!;
    return now - ms;
  }
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3})\d*)?)?)?\s*(Z|[+-]\d\d:?\d\d)?$/i.exec(s);
  if (!m) throw new Error(`not a time: ${JSON.stringify(text)} (use e.g. 3d, 12h, 2026-11-25, 2026-11-25T23:30, 2026-11-25T23:30:00Z)`);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '0', zone] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number(frac.padEnd(3, '0'))] as const;
  let t: number;
  if (zone === undefined) {
    t = new Date(...parts).getTime();
  } else {
    t = Date.UTC(...parts);
    if (zone.toUpperCase() !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60e3;
    }
  }
  // Date rolls 2026-02-31 over into March; a typo should not move the window silently.
  const check = zone === undefined ? new Date(t) : new Date(Date.UTC(...parts));
  const [cy, cm, cd] = zone === undefined ? [check.getFullYear(), check.getMonth(), check.getDate()] : [check.getUTCFullYear(), check.getUTCMonth(), check.getUTCDate()];
  if (!Number.isFinite(t) || cy !== parts[0] || cm !== parts[1] || cd !== parts[2] || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) {
    throw new Error(`not a valid date: ${JSON.stringify(text)}`);
  }
  return t;
}

/** Matches a client address: exact, or inside a CIDR (`198.51.100.0/24`, `2001:db8::/32`). */
export function clientMatcher(specs: readonly string[]): (addr: string | undefined) => boolean {
  const exact = new Set<string>();
  const blocks: string[] = [];
  for (const spec of specs) {
    if (spec.includes('/') && validAddressEntry(spec)) blocks.push(spec);
    else if (spec.includes('/') && parseIp(spec.slice(0, spec.lastIndexOf('/')))) throw new Error(`bad prefix length in ${spec}`);
    else exact.add(spec);
  }
  return (addr) => {
    if (addr === undefined) return exact.has('-');
    if (exact.has(addr)) return true;
    return blocks.length > 0 && addressInList(addr, blocks);
  };
}

/**
 * A shell-style wildcard (`*`, `?`, `[abc]`, `[a-z]`, `[!abc]`) as a regular
 * expression matching a whole name. Every other character is literal: the
 * pattern is an admin's text, never regex syntax.
 */
export function wildcardRegExp(pattern: string, { ignoreCase = true }: { ignoreCase?: boolean } = {}): RegExp {
  const lit = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      // A set ends at the first `]` after its first character (so `[]a]` holds `]`).
      let j = i + 1;
      const negate = pattern[j] === '!' || pattern[j] === '^';
      if (negate) j++;
      const end = pattern.indexOf(']', j + 1);
      if (end === -1) {
        re += lit(c);
        continue;
      }
      const body = pattern.slice(j, end);
      let set = '';
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          if (body[k]! > body[k + 2]!) throw new Error(`bad range ${body.slice(k, k + 3)} in ${JSON.stringify(pattern)}`);
          set += `${lit(body[k]!)}-${lit(body[k + 2]!)}`;
          k += 2;
        } else set += lit(body[k]!);
      }
      re += `[${negate ? '^' : ''}${set}]`;
      i = end;
    } else re += lit(c);
  }
  return new RegExp(`^(?:${re})$`, ignoreCase ? 'is' : 's');
}

/** Matches a host name against --host patterns (DNS names: case does not matter); `-` matches a record with no host. */
export function hostMatcher(patterns: readonly string[]): (host: string | undefined) => boolean {
  const res = patterns.map((p) => wildcardRegExp(p));
  return (host) => res.some((re) => re.test(host ?? '-'));
}

/**
 * Matches a certificate's key ID against --key-id patterns. Case counts: a
 * key ID is the CA's text (`ssh-keygen -s … -I ID`), not a DNS name, and
 * `revoke --key-id` names it exactly. `-` matches a record without a
 * certificate (a plain key, or no ExposeAuthInfo).
 */
export function keyIdMatcher(patterns: readonly string[]): (keyId: string | undefined) => boolean {
  const res = patterns.map((p) => wildcardRegExp(p, { ignoreCase: false }));
  return (keyId) => (keyId === undefined ? patterns.includes('-') : res.some((re) => re.test(keyId)));
}

/** What --decision accepts; `allow` also shows how allowed sessions ended (exit). */
function decisionSet(values: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const v of values.flatMap((x) => x.split(','))) {
    if (!(DECISIONS as readonly string[]).includes(v)) throw new Error(`--decision is one of ${DECISIONS.join(', ')}, not ${JSON.stringify(v)}`);
    set.add(v);
    if (v === 'allow') set.add('exit');
  }
  return set;
}

/** Build the predicate; throws Error with an admin-readable message on bad input. */
export function buildFilter(opts: FilterOptions, now: number): RecordFilter {
  const since = opts.since !== undefined ? parseTimePoint(opts.since, now) : Number.NEGATIVE_INFINITY;
  const until = opts.until !== undefined ? parseTimePoint(opts.until, now) : Number.POSITIVE_INFINITY;
  const policies = opts.policy?.length ? new Set(opts.policy) : null;
  const decisions = opts.decision?.length ? decisionSet(opts.decision) : null;
  const client = opts.client?.length ? clientMatcher(opts.client) : null;
  const users = opts.user?.length ? new Set(opts.user) : null;
  const hosts = opts.host?.length ? hostMatcher(opts.host) : null;
  const keyIds = opts.keyId?.length ? keyIdMatcher(opts.keyId) : null;
  const grep = opts.grep?.toLowerCase();
  return {
    since,
    until,
    events: decisions,
    test(r, t) {
      if (t < since || t >= until) return false;
      if (decisions && !decisions.has(r.event)) return false;
      if (policies && !policies.has(r.policy)) return false;
      if (client && !client(r.client?.addr)) return false;
      if (users && (r.user === null || !users.has(r.user))) return false;
      if (hosts && !hosts(r.hostname)) return false;
      if (keyIds && !keyIds(r.cert?.keyId)) return false;
      if (grep !== undefined && !haystack(r).includes(grep)) return false;
      return true;
    },
  };
}

/** The text --grep searches: what an admin would recognise in a record. */
function haystack(r: AuditRecord): string {
  return [r.command ?? '', r.argv?.join(' ') ?? '', r.reason, r.code ?? '', r.policy, r.user ?? '', r.key ?? '', r.cert?.keyId ?? '', r.client?.addr ?? '', r.hostname ?? '', r.session, r.wouldDeny ?? '', r.options?.join(' ') ?? '', r.family ?? '']
    .join('\n')
    .toLowerCase();
}

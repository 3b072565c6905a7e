// `audit --suggest` (learning, as sshdo --learn does): the smallest policy
// change that lets the refused sessions through, checked by the gate's own
// decision function rather than guessed from the log's wording.
//
// For each distinct refused command the current policy is made stricter
// (enforce: true, so a permissive policy's waived refusals show) and then
// widened one refusal at a time, exactly as the refusal says: access,
// `delete: true`, an options.allow entry, an options.deny entry removed, a
// client address added to `from`. What no policy key can lift — an
// always-refused option, a path outside root, a malformed command — is never
// suggested; it is listed as a refusal to look into. So is a session outside
// the policy's backup window: a window is never widened or dropped. Each
// command is judged at the time of its last refusal, since a window depends
// on it. The result is verified
// by evaluating every collected command against the suggested policy.
import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Decision } from '../../decide.js';
import { evaluate } from '../../evaluate.js';
import { realFacts } from '../../facts.js';
import { locatePolicy, parsePolicyText, validatePolicy } from '../../policy/load.js';
import type { Policy } from '../../policy/schema.js';
import { knownOption, namesOf, ALWAYS_REFUSED } from '../../rsync/options.js';
import type { Session } from '../../session.js';
import { readFileSync } from 'node:fs';
import { localTime, shortCommandText, visible } from './format.js';
import type { AuditRecord } from '../join/transfer.js';

/** One distinct refused command (per policy, command and client address). */
interface Candidate {
  record: AuditRecord;
  count: number;
  sessions: string[];
  first: number;
  last: number;
}

/** Distinct commands remembered per policy: a client hammering variants must not exhaust memory. */
const MAX_CANDIDATES = 10_000;
/** Session ids named in a comment. */
const MAX_NAMED = 3;

export class SuggestCollector {
  readonly byPolicy = new Map<string, Map<string, Candidate>>();
  dropped = 0;

  add(r: AuditRecord, t: number): void {
    const refused = r.event === 'deny' || (r.event === 'allow' && r.wouldDeny !== undefined);
    if (refused) this.addKeyed(r.policy, candidateKey(r), r.session, t, r);
  }

  /**
   * A refused session by its candidate key (candidateKey). The record is
   * kept when the key is new and there is room; a split report's worker
   * sends it (as a function that parses it) until it has sent it with a
   * session this call is surely made for (null after: the key is here by
   * then, or there was no room and still is none).
   */
  addKeyed(policy: string, key: string, session: string, t: number, record: AuditRecord | (() => AuditRecord) | null): void {
    let cands = this.byPolicy.get(policy);
    if (!cands) this.byPolicy.set(policy, (cands = new Map()));
    const c = cands.get(key);
    if (c) {
      c.count++;
      if (c.sessions.length < MAX_NAMED) c.sessions.push(session);
      c.first = Math.min(c.first, t);
      c.last = Math.max(c.last, t);
    } else if (cands.size < MAX_CANDIDATES) {
      if (record === null) throw new Error(`a refused command of policy ${policy} came without its record`);
      cands.set(key, { record: typeof record === 'function' ? record() : record, count: 1, sessions: [session], first: t, last: t });
    } else this.dropped++;
  }
}

/** What makes a refused command distinct for --suggest: its command, client address and user. */
export const candidateKey = (r: AuditRecord): string => `${r.command}\0${r.client?.addr ?? ''}\0${r.user ?? ''}`;

/** A change to one policy key, with the commands that need it. */
export interface Change {
  key: 'access' | 'delete' | 'options.allow' | 'options.deny' | 'from';
  /** The entry added (options.allow, from) or removed (options.deny); the new value otherwise. */
  value: string | boolean;
  needs: Candidate[];
}

export interface PolicySuggestion {
  policy: string;
  file: string | null;
  /** The policy as it is, or null when its file could not be read (nothing is then suggested). */
  current: Policy | null;
  changes: Change[];
  /** The policy with the changes applied. */
  suggested: Policy | null;
  /** Refusals no policy change lifts, or that could not be verified. */
  lookInto: { candidate: Candidate; reason: string }[];
  /** Commands the current policy already allows (it was changed since). */
  alreadyAllowed: Candidate[];
  problem: string | null;
}

const FIXABLE = new Set(['access', 'delete-refused', 'overwrite-refused', 'follow-links-refused', 'option-not-allowed', 'option-denied', 'from']);

const isAlwaysRefused = (name: string): boolean => {
  const spec = knownOption(name);
  return !spec || spec.risk === 'refused' || namesOf(spec).some((n) => ALWAYS_REFUSED.includes(n));
};

function sessionOf(r: AuditRecord): Session {
  return { originalCommand: r.command, client: r.client, server: r.server, user: r.user, userAuthFile: null };
}

function clonePolicy(p: Policy): Policy {
  return { ...p, options: { allow: [...p.options.allow], deny: [...p.options.deny] }, ...(p.from ? { from: [...p.from] } : {}) };
}

/** The decision for a session under a policy at a time (ms since the epoch: a backup window depends on it). */
type Evaluate = (session: Session, policy: Policy, now: number) => Decision;

// Facts read the rsync binary (does it know --confine-root?): once per binary, not per evaluation.
const factsCache = new Map<string, ReturnType<typeof realFacts>>();
const realEvaluate: Evaluate = (session, policy, now) => {
  const need = policy.root !== '/' && policy.confineRoot === 'auto';
  const key = `${need}\0${policy.rsync}`;
  let facts = factsCache.get(key);
  if (!facts) factsCache.set(key, (facts = realFacts(policy.rsync, need)));
  return evaluate(session, policy, { ...facts, now });
};

/**
 * Widen `policy` (in place) until the command is allowed; returns the changes
 * made, or the refusal that no change can lift.
 */
function widenFor(c: Candidate, policy: Policy, decideFn: Evaluate): { changes: Omit<Change, 'needs'>[] } | { stuck: string } {
  const session = sessionOf(c.record);
  const changes: Omit<Change, 'needs'>[] = [];
  // Each round lifts the first refusal decide() reports; a handful of keys exist, so this ends quickly.
  for (let round = 0; round < 64; round++) {
    const d = decideFn(session, policy, c.last);
    if (d.verdict === 'allow') return { changes };
    if (!FIXABLE.has(d.code)) return { stuck: d.reason };
    const options = d.options ?? [];
    switch (d.code) {
      case 'access':
        if (policy.access === 'read-write') return { stuck: d.reason };
        policy.access = 'read-write';
        changes.push({ key: 'access', value: 'read-write' });
        break;
      case 'delete-refused':
        if (policy.delete) return { stuck: d.reason };
        policy.delete = true;
        changes.push({ key: 'delete', value: true });
        break;
      case 'from': {
        const addr = c.record.client?.addr;
        if (!addr || !policy.from || policy.from.includes(addr)) return { stuck: d.reason };
        policy.from.push(addr);
        changes.push({ key: 'from', value: addr });
        break;
      }
      case 'option-denied': {
        const names = new Set(options.flatMap((o) => (knownOption(o) ? namesOf(knownOption(o)!) : [o])));
        const before = policy.options.deny.length;
        const removed = policy.options.deny.filter((x) => names.has(x) || (knownOption(x) && namesOf(knownOption(x)!).some((n) => names.has(n))));
        policy.options.deny = policy.options.deny.filter((x) => !removed.includes(x));
        if (policy.options.deny.length === before) return { stuck: d.reason };
        for (const x of removed) changes.push({ key: 'options.deny', value: x });
        break;
      }
      case 'follow-links-refused':
        // Not suggested, though options.allow would lift it: under a root
        // other than "/", -L, -k, -K and --copy-unsafe-links follow a symlink
        // out of root, and rsync runs as root, so whoever can create a link
        // below root could read or write any file on the machine through it.
        // Whether that is safe depends on who can write under root, which no
        // log can tell; a suggestion is pasted, a comment beside it overlooked.
        return { stuck: `${d.reason}. Not suggested: it follows symlinks out of the policy root ${policy.root}, as root, so it is safe only if no one but root can create a symlink under it; if so, add it to options.allow yourself` };
      default: {
        // overwrite-refused, option-not-allowed: options.allow lifts these per option.
        const add = options.filter((o) => !policy.options.allow.includes(o));
        if (add.length === 0) return { stuck: d.reason };
        for (const o of add) {
          // Never, whatever the log says: the always-refused list is not the policy's to lift.
          if (isAlwaysRefused(o)) return { stuck: d.reason };
          policy.options.allow.push(o);
          changes.push({ key: 'options.allow', value: o });
        }
      }
    }
  }
  return { stuck: 'too many refusals to lift one by one' };
}

export interface SuggestContext {
  policyDir: string;
  /** The decision function; the gate's own by default. */
  decide?: Evaluate;
}

/** Work out the suggestions for every policy seen in the collected refusals. */
export async function suggest(collector: SuggestCollector, ctx: SuggestContext): Promise<PolicySuggestion[]> {
  const decideFn = ctx.decide ?? realEvaluate;
  const out: PolicySuggestion[] = [];
  for (const [name, cands] of [...collector.byPolicy].sort(([a], [b]) => a.localeCompare(b))) {
    const s: PolicySuggestion = { policy: name, file: null, current: null, changes: [], suggested: null, lookInto: [], alreadyAllowed: [], problem: null };
    out.push(s);
    try {
      s.file = locatePolicy(name, ctx.policyDir);
      s.current = validatePolicy(await parsePolicyText(readFileSync(s.file, 'utf8'), s.file), s.file);
    } catch (e) {
      s.problem = `cannot read policy "${name}": ${(e as Error).message}`;
      for (const c of cands.values()) s.lookInto.push({ candidate: c, reason: c.record.wouldDeny ?? c.record.reason });
      continue;
    }
    const strict: Policy = { ...clonePolicy(s.current), enforce: true };
    const candidate = clonePolicy(strict);
    const changes = new Map<string, Change>();
    const wanted: Candidate[] = [];
    for (const c of cands.values()) {
      if (decideFn(sessionOf(c.record), strict, c.last).verdict === 'allow') {
        s.alreadyAllowed.push(c);
        continue;
      }
      // Work on a copy: a command that turns out unliftable must leave no half-change behind.
      const trial = clonePolicy(candidate);
      const result = widenFor(c, trial, decideFn);
      if ('stuck' in result) {
        s.lookInto.push({ candidate: c, reason: result.stuck });
        continue;
      }
      Object.assign(candidate, trial);
      wanted.push(c);
      for (const ch of result.changes) {
        const key = `${ch.key}\0${String(ch.value)}`;
        const known = changes.get(key);
        if (known) known.needs.push(c);
        else changes.set(key, { ...ch, needs: [c] });
      }
    }
    // A later command's change can also be what an earlier one needed: name every command each change serves.
    for (const ch of changes.values()) {
      for (const c of wanted) {
        if (ch.needs.includes(c)) continue;
        const without = clonePolicy(candidate);
        undo(without, ch, s.current);
        if (decideFn(sessionOf(c.record), without, c.last).verdict !== 'allow') ch.needs.push(c);
      }
    }
    // Verify: every wanted command passes the suggested policy (enforcing).
    for (const c of wanted) {
      const d = decideFn(sessionOf(c.record), candidate, c.last);
      if (d.verdict !== 'allow') s.lookInto.push({ candidate: c, reason: `not verified: ${d.reason}` });
    }
    s.changes = [...changes.values()];
    s.suggested = { ...candidate, enforce: s.current.enforce };
  }
  return out;
}

function undo(p: Policy, ch: Change, current: Policy): void {
  switch (ch.key) {
    case 'access':
      p.access = current.access;
      break;
    case 'delete':
      p.delete = current.delete;
      break;
    case 'from':
      p.from = p.from?.filter((x) => x !== ch.value);
      break;
    case 'options.allow':
      p.options.allow = p.options.allow.filter((x) => x !== ch.value);
      break;
    case 'options.deny':
      p.options.deny = [...p.options.deny, String(ch.value)];
      break;
  }
}

function describe(c: Candidate): string {
  const who = c.record.client?.addr ?? 'local';
  const sessions = c.sessions.join(', ') + (c.count > c.sessions.length ? ` +${c.count - c.sessions.length} more` : '');
  // Raw: every line it goes into is escaped as a whole (oneLine).
  return `${shortCommandText(c.record)} from ${who}, ${c.count}× (last ${localTime(c.last).slice(0, 16)}; session ${sessions})`;
}

function needsComment(needs: Candidate[]): string {
  const shown = needs.slice(0, MAX_NAMED).map(describe);
  if (needs.length > MAX_NAMED) shown.push(`and ${needs.length - MAX_NAMED} more command(s)`);
  return ` needed by: ${shown.join('; ')}`;
}

/**
 * The suggestion as YAML: one document per policy, holding only the keys to
 * change, each with its complete new value (lists keep the entries already
 * there), so a key can be replaced as a whole. Commands to look into follow
 * as comments, so the output stays valid YAML.
 */
export function renderSuggestions(list: PolicySuggestion[]): string {
  const docs: string[] = [];
  for (const s of list) {
    const header = [visible(` gatekeeper audit --suggest: policy "${s.policy}"${s.file ? ` (${s.file})` : ''}`)];
    const value: Record<string, unknown> = {};
    const comments = new Map<string, string>();
    const p = s.suggested;
    if (p && s.current) {
      const byKey = (key: Change['key']) => s.changes.filter((c) => c.key === key);
      for (const ch of byKey('access')) {
        value.access = p.access;
        comments.set('access', needsComment(ch.needs));
      }
      for (const ch of byKey('delete')) {
        value.delete = true;
        comments.set('delete', needsComment(ch.needs));
      }
      const allowAdds = byKey('options.allow');
      const denyDrops = byKey('options.deny');
      if (allowAdds.length || denyDrops.length) {
        value.options = { allow: p.options.allow, deny: p.options.deny };
        for (const ch of allowAdds) comments.set(`options.allow.${String(ch.value)}`, needsComment(ch.needs));
        if (denyDrops.length) comments.set('options.deny', ` removed ${denyDrops.map((d) => String(d.value)).join(', ')} from it;${needsComment(denyDrops.flatMap((d) => d.needs))}`);
      }
      const fromAdds = byKey('from');
      if (fromAdds.length && p.from) {
        value.from = p.from;
        for (const ch of fromAdds) comments.set(`from.${String(ch.value)}`, needsComment(ch.needs));
      }
      if (Object.keys(value).length > 0) {
        header.push(' Replace these keys in the policy file; each list is complete (entries already there are kept).');
        if (!s.current.enforce) header.push(' With these keys the policy can be switched to enforce: true without refusing the commands below.');
      } else header.push(' No policy change to suggest.');
    } else if (s.problem) header.push(` ${s.problem}`);
    const doc = new Document(Object.keys(value).length > 0 ? value : null);
    doc.commentBefore = header.join('\n');
    attachComments(doc, comments);
    const trailer: string[] = [];
    if (s.alreadyAllowed.length) {
      trailer.push(' Already allowed by the policy as it is now:');
      for (const c of s.alreadyAllowed.slice(0, 20)) trailer.push(`   ${describe(c)}`);
    }
    if (s.lookInto.length) {
      trailer.push(' Refusals to look into (no policy change suggested):');
      for (const { candidate, reason } of s.lookInto.slice(0, 50)) trailer.push(`   ${describe(candidate)}`, `     ${reason}`);
      if (s.lookInto.length > 50) trailer.push(`   … and ${s.lookInto.length - 50} more`);
    }
    if (trailer.length) doc.comment = trailer.map(oneLine).join('\n');
    docs.push(doc.toString({ lineWidth: 0 }));
  }
  return docs.join('---\n');
}

/**
 * Comments are single lines: a newline in a logged command must not become
 * YAML, and a control character must not reach the admin's terminal.
 */
const oneLine = (s: string) => visible(s);

function attachComments(doc: Document, comments: Map<string, string>): void {
  for (const [path, text] of comments) {
    const parts = path.split('.');
    let node: Node | null = null;
    if (parts[0] === 'options' && parts[1] === 'allow' && parts.length > 2) node = seqItem(doc.getIn(['options', 'allow'], true), parts.slice(2).join('.'));
    else if (parts[0] === 'from' && parts.length > 1) node = seqItem(doc.get('from', true), parts.slice(1).join('.'));
    else {
      const n = doc.getIn(parts, true);
      node = isScalar(n) || isSeq(n) || isMap(n) ? (n as Node) : null;
    }
    if (node && isScalar(node)) node.comment = oneLine(text);
    else if (node) node.commentBefore = oneLine(text);
  }
}

function seqItem(seq: unknown, value: string): Node | null {
  if (!isSeq(seq)) return null;
  for (const item of seq.items) if (isScalar(item) && item.value === value) return item;
  return null;
}

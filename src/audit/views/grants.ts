// The grants (`gatekeeper grant restore`'s grant events) and the sessions
// that came under each: a grant's generated policy name (restore-TIME) is
// unique, and every session the key opened under it carries that name, so
// the policy joins them. Grant events are not sessions: the per-client views
// (summary groups, metrics, the check, the HTML report) never see them.
// Memory: one entry per grant, plus counts per policy name seen (few).
import { isSuccessStatus, type AuditRecord } from '../join/transfer.js';
import { bytes, localTime, type Paint, visible } from './format.js';

export interface GrantSessions {
  allowed: number;
  refused: number;
  failed: number;
  /** Pushes known to have finished successfully (exit records). */
  succeeded: number;
  /** Bytes the server received in those pushes, where rsync's log says. */
  received: number;
  last: number | null;
}

export interface GrantView {
  host: string;
  policy: string;
  key: string | null;
  t: number;
  grant: NonNullable<AuditRecord['grant']>;
  sessions: GrantSessions;
}

const none = (): GrantSessions => ({ allowed: 0, refused: 0, failed: 0, succeeded: 0, received: 0, last: null });

/** A GrantCollector's grants and session counts (GrantCollector.state). */
export interface GrantState {
  grants: GrantView[];
  byPolicy: Map<string, Map<string, GrantSessions>>;
}

export class GrantCollector {
  private readonly grants: GrantView[] = [];
  /** Session counts by host and policy name. */
  private readonly byPolicy = new Map<string, Map<string, GrantSessions>>();

  add(r: AuditRecord, t: number): void {
    const host = r.hostname ?? '-';
    if (r.event === 'grant') {
      if (r.grant) this.grants.push({ host, policy: r.policy, key: r.key ?? null, t, grant: r.grant, sessions: none() });
      return;
    }
    let hostMap = this.byPolicy.get(host);
    if (!hostMap) this.byPolicy.set(host, (hostMap = new Map()));
    let s = hostMap.get(r.policy);
    if (!s) hostMap.set(r.policy, (s = none()));
    if (r.event === 'allow') s.allowed++;
    else if (r.event === 'deny') s.refused++;
    else if (r.event === 'error') s.failed++;
    else if (r.event === 'exit') {
      if (isSuccessStatus(r.status, r.signal)) {
        s.succeeded++;
        s.received += r.transfer?.received ?? 0;
      } else s.failed++;
    } else return;
    if (s.last === null || t > s.last) s.last = t;
  }

  /** The grants and counts as they stand, to carry to another thread (read/split.ts). */
  get state(): GrantState {
    return { grants: this.grants, byPolicy: this.byPolicy };
  }

  /** Add what records after these collected: their grants after these, the counts summed, the later last. */
  absorb(state: GrantState): void {
    this.grants.push(...state.grants);
    for (const [host, policies] of state.byPolicy) {
      let hostMap = this.byPolicy.get(host);
      if (!hostMap) this.byPolicy.set(host, (hostMap = new Map()));
      for (const [policy, o] of policies) {
        const s = hostMap.get(policy);
        if (!s) hostMap.set(policy, o);
        else {
          s.allowed += o.allowed;
          s.refused += o.refused;
          s.failed += o.failed;
          s.succeeded += o.succeeded;
          s.received += o.received;
          if (s.last === null || (o.last !== null && o.last > s.last)) s.last = o.last;
        }
      }
    }
  }

  result(): GrantView[] {
    return this.grants.map((g) => ({ ...g, sessions: this.byPolicy.get(g.host)?.get(g.policy) ?? none() }));
  }
}

/** The --summary section: one grant a line, then what came under it. */
export function renderGrants(grants: readonly GrantView[], now: number, p: Paint): string {
  if (grants.length === 0) return '';
  const lines = [p('bold', 'GRANTS')];
  for (const g of grants) {
    const ended = Date.parse(g.grant.expires) <= now;
    const s = g.sessions;
    const what = `push into ${g.grant.path}${g.grant.keepOwners ? ' keeping owners' : ''}${g.grant.delete ? ' with --delete' : ''}${g.grant.from ? ` from ${g.grant.from.join(',')}` : ''}`;
    lines.push(
      `${localTime(g.t)} ${visible(g.host === '-' ? '' : `${g.host} `)}${visible(g.policy)} ${visible(g.key ?? '-')}: ${visible(what)}, ${ended ? 'ended' : 'until'} ${g.grant.expires}`,
      `  sessions: ${s.allowed} allowed, ${s.refused} refused, ${s.succeeded} finished${s.succeeded ? ` (received ${bytes(s.received)})` : ''}${s.failed ? `, ${s.failed} failed` : ''}${s.last !== null ? `, last ${localTime(s.last)}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** --summary --json: one object a grant. */
export const grantJson = (g: GrantView): string => JSON.stringify({ type: 'grant', host: g.host, policy: g.policy, key: g.key, time: new Date(g.t).toISOString(), ...g.grant, sessions: g.sessions });

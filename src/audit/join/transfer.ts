// rsync's own --log-file (policy key transferLog), joined to the gate's records.
//
// The gate logs its decision and then execs rsync, which keeps the gate's pid
// (execve), so rsync's `[PID]` lines belong to the allow record with that pid.
// In the spawn fallback (Node without process.execve) rsync is the gate's
// child: its lines carry the child's pid, which the gate's own exit record
// names (rsyncPid) once rsync has ended. That record is then held until the
// rest of its second has been read (rsync's lines are stamped to the whole
// second) and passed on with the bytes those lines report.
// rsync ends every run through log_exit(): `sent N bytes  received M bytes
// total size T` when it finished (also for a sender that had errors), then
// `rsync error: … (code N)` / `rsync warning: … (code 24)` when it did not exit
// 0. A run killed outright leaves no end line and so never counts as finished.
//
// Times in that file are the server's local time with whole seconds.
import type { LogRecord } from '../../log/record.js';

export type TransferLine =
  | { pid: number; t: number; kind: 'sent'; sent: number; received: number; totalSize: number }
  | { pid: number; t: number; kind: 'status'; status: number; message: string }
  | { pid: number; t: number; kind: 'error'; message: string }
  | { pid: number; t: number; kind: 'other' };

// 2026/11/26 13:00:00 [4242] message
const LINE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) \[(\d+)\] (.*)$/;
const SENT = /^sent ([\d.,]+[KMGTP]?) bytes {1,2}received ([\d.,]+[KMGTP]?) bytes {1,2}total size ([\d.,]+[KMGTP]?)/;
const STATUS = /^rsync (?:error|warning): (.*) \(code (\d+)\)/;

/**
 * One line of rsync's log file; null when it is not one. `t` is the end of
 * the logged second, so a line sorts after a gate record of the same second.
 */
export function parseTransferLine(line: string): TransferLine | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, pidText, message = ''] = m;
  const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime() + 999;
  const pid = Number(pidText);
  if (!Number.isFinite(t) || !Number.isSafeInteger(pid)) return null;
  const sent = SENT.exec(message);
  if (sent) {
    return { pid, t, kind: 'sent', sent: rsyncNumber(sent[1]!), received: rsyncNumber(sent[2]!), totalSize: rsyncNumber(sent[3]!) };
  }
  const status = STATUS.exec(message);
  if (status) return { pid, t, kind: 'status', status: Number(status[2]), message: status[1]! };
  if (message.startsWith('rsync: ')) return { pid, t, kind: 'error', message: message.slice(7) };
  return { pid, t, kind: 'other' };
}

/** rsync prints plain digits, or with --human-readable commas/points and K/M/G suffixes. */
function rsyncNumber(text: string): number {
  const suffix = /[KMGTP]$/.exec(text)?.[0];
  const digits = suffix ? text.slice(0, -1) : text;
  if (!suffix) return Number(digits.replace(/[.,]/g, ''));
  const value = Number(digits.replace(',', '.'));
  return Math.round(value * 1024 ** ('KMGTP'.indexOf(suffix) + 1));
}

/** What audit adds to a synthesized exit record. */
export interface TransferOutcome {
  sent: number | null;
  received: number | null;
  totalSize: number | null;
  /** `rsync:` error lines the run logged. */
  errors: number;
  firstError: string | null;
}

/** A record as audit passes it on: a logged one, or an exit synthesized from rsync's log. */
export type AuditRecord = LogRecord & { transfer?: TransferOutcome; /** The key (or certificate) is revoked now, in the RevokedKeys list audit read (views/revoked.ts). */ revoked?: true };

/** rsync exit codes that mean the backup happened: 0, and 24 (files vanished while being read). */
export const isSuccessStatus = (status: number | null | undefined, signal?: string | null): boolean =>
  !signal && (status === 0 || status === 24);

interface OpenSession {
  record: LogRecord;
  t: number;
  errors: number;
  firstError: string | null;
  sent: { sent: number; received: number; totalSize: number; t: number } | null;
}

/** Sessions waiting for their end line; beyond this the oldest are forgotten (killed runs leave none). */
const MAX_OPEN = 100_000;
/** Pids with lines but no session yet (spawn fallback children, others' rsyncs); beyond this the oldest go. */
const MAX_STRAYS = 10_000;
/** Two hosts' sessions with one pid this close together may both be running: their rsync lines are not joined. */
const CROSS_HOST_RUN_MS = 24 * 3600_000;
/** A stray pid silent for longer than this starts over: the pid was reused by another run. */
const STRAY_GAP_MS = 10 * 60_000;

interface Stray {
  first: number;
  last: number;
  errors: number;
  firstError: string | null;
  sent: { sent: number; received: number; totalSize: number } | null;
}
/** A status line follows the `sent` line within the same log_exit() call; this is how long to wait for it. */
const END_WINDOW_MS = 2_000;

/**
 * Joins rsync log lines to gate records by pid, turning each finished run
 * into an `exit` record. Feed it records and lines in time order.
 */
export class TransferJoiner {
  private readonly open = new Map<number, OpenSession>();
  /** pids whose `sent` line came, in the order it came. */
  private readonly pending = new Set<number>();
  private readonly strays = new Map<number, Stray>();
  /** Spawn-fallback exit records waiting for the rest of their second, in time order. */
  private readonly held: { record: LogRecord; t: number; since: number }[] = [];

  /**
   * Take a gate record. Returns true when the joiner keeps it to pass on
   * later, completed, from flush(): a spawn-fallback exit record whose
   * rsync wrote a transfer log.
   */
  onRecord(record: LogRecord, t: number): boolean {
    const previous = this.open.get(record.pid);
    if (previous && previous.record.session !== record.session) {
      // The pid was reused: whatever the old run left is not this session's.
      this.forget(record.pid);
      // Unless the two are on different hosts and may both be running: rsync's
      // lines name no host, so they could be either's. Neither is joined (no
      // outcome rather than another host's), until one host runs that pid again.
      if (record.event === 'allow' && previous.record.hostname !== record.hostname && t - previous.t < CROSS_HOST_RUN_MS) return false;
    }
    if (record.event === 'allow' && record.transferLog !== undefined) {
      this.forget(record.pid);
      this.open.set(record.pid, { record, t, errors: 0, firstError: null, sent: null });
      if (this.open.size > MAX_OPEN) this.forget(this.open.keys().next().value!);
    } else if (record.event === 'exit' && previous?.record.session === record.session) {
      // The spawn fallback logged the outcome itself.
      this.forget(record.pid);
      if (record.rsyncPid !== undefined) {
        this.held.push({ record, t, since: previous.t });
        return true;
      }
    }
    return false;
  }

  /** Exit records completed by this line (and by time passing). */
  onLine(line: TransferLine): AuditRecord[] {
    const out = this.flush(line.t);
    const session = this.open.get(line.pid);
    if (!session || line.t < session.t) {
      this.stray(line);
      return out;
    }
    switch (line.kind) {
      case 'sent':
        session.sent = { sent: line.sent, received: line.received, totalSize: line.totalSize, t: line.t };
        this.pending.add(line.pid);
        break;
      case 'status':
        out.push(this.finish(line.pid, session, line.t, line.status, line.message));
        break;
      case 'error':
        session.errors++;
        session.firstError ??= line.message;
        break;
      case 'other':
        break;
    }
    return out;
  }

  /** Finish runs whose `sent` line is older than the end window before `now`; pass on held records whose second is over. */
  flush(now: number): AuditRecord[] {
    const out: AuditRecord[] = [];
    // rsync stamps a line with the end of its second: by then every line of a held record's run has been read.
    while (this.held.length > 0 && this.held[0]!.t + 1000 <= now) out.push(this.complete(this.held.shift()!));
    for (const pid of this.pending) {
      const session = this.open.get(pid);
      if (!session?.sent) {
        this.pending.delete(pid);
        continue;
      }
      if (session.sent.t >= now - END_WINDOW_MS) break;
      out.push(this.finishSent(pid, session));
    }
    return out;
  }

  /** At the end of the input: every run with a `sent` line is finished. */
  flushAll(): AuditRecord[] {
    return this.flush(Number.POSITIVE_INFINITY);
  }

  private finishSent(pid: number, session: OpenSession): AuditRecord {
    // A sender that hit errors still logs `sent`; its run was partial (rsync's code 23).
    const partial = session.errors > 0;
    return this.finish(pid, session, session.sent!.t, partial ? 23 : 0, partial ? `partial transfer: ${session.firstError}` : null);
  }

  private finish(pid: number, session: OpenSession, t: number, status: number, message: string | null): AuditRecord {
    this.forget(pid);
    const r = session.record;
    const sent = session.sent;
    const bytes = sent ? `sent ${sent.sent} bytes, received ${sent.received} bytes` : 'no byte counts';
    const reason = message === null ? `rsync finished: ${bytes}` : `rsync exit ${status}: ${message} (${bytes})`;
    const record: AuditRecord = {
      v: r.v,
      time: new Date(t - (t % 1000)).toISOString(),
      event: 'exit',
      policy: r.policy,
      session: r.session,
      pid: r.pid,
      user: r.user,
      client: r.client,
      server: r.server,
      command: r.command,
      argv: r.argv,
      reason,
      code: isSuccessStatus(status) ? 'transfer-ok' : 'transfer-failed',
      status,
      transfer: {
        sent: sent?.sent ?? null,
        received: sent?.received ?? null,
        totalSize: sent?.totalSize ?? null,
        errors: session.errors,
        firstError: session.firstError,
      },
    };
    if (r.key !== undefined) record.key = r.key;
    if (r.cert !== undefined) record.cert = r.cert; // who ran it: --key-id and --summary see the run's end too
    if (r.hostname !== undefined) record.hostname = r.hostname; // the run's host is its allow record's
    if (r.transferLog !== undefined) record.transferLog = r.transferLog;
    return record;
  }

  /** A line of a pid without a session: kept, in case a spawn-fallback exit record names it. */
  private stray(line: TransferLine): void {
    let s = this.strays.get(line.pid);
    if (s && line.t - s.last > STRAY_GAP_MS) s = undefined;
    if (!s) {
      this.strays.delete(line.pid);
      s = { first: line.t, last: line.t, errors: 0, firstError: null, sent: null };
      this.strays.set(line.pid, s);
      if (this.strays.size > MAX_STRAYS) this.strays.delete(this.strays.keys().next().value!);
    }
    s.last = line.t;
    if (line.kind === 'sent') s.sent = { sent: line.sent, received: line.received, totalSize: line.totalSize };
    else if (line.kind === 'error') {
      s.errors++;
      s.firstError ??= line.message;
    }
  }

  /** A held exit record with what its rsync's lines reported (they came after its allow record). */
  private complete({ record, since }: { record: LogRecord; since: number }): AuditRecord {
    const s = this.strays.get(record.rsyncPid!);
    if (!s || s.first < since) return record;
    this.strays.delete(record.rsyncPid!);
    return {
      ...record,
      transfer: { sent: s.sent?.sent ?? null, received: s.sent?.received ?? null, totalSize: s.sent?.totalSize ?? null, errors: s.errors, firstError: s.firstError },
    };
  }

  private forget(pid: number): void {
    this.open.delete(pid);
    this.pending.delete(pid);
  }
}

// From one line of input to a log record, fast.
//
// audit reads logs of millions of lines, so validation is a hand-written check
// of exactly what LogRecordSchema requires (a property test in
// test/audit/parse.test.ts holds the two in agreement) instead of a zod parse
// per line. A line that is not a record is skipped and counted, never fatal.
//
// Besides the gate's own files, the same record arrives wrapped by syslog:
// - journald's `journalctl -o json`: an object whose MESSAGE is the record
//   (a string, or an array of bytes when journald found it unprintable);
// - a syslog file (rsyslog, local or a central collector's):
//   `Nov 26 13:00:00 host gatekeeper[123]: {...}`, or with an RFC 3339 time.
import { EVENTS, RECORD_VERSION, type LogRecord } from '../../log/record.js';

export type SkipReason = 'not-json' | 'not-record' | 'other-version' | 'too-long';

export interface ParsedLine {
  record: LogRecord;
  /** Milliseconds since the epoch of record.time. */
  t: number;
  /** The record's own JSON text (the MESSAGE for journald lines). */
  raw: string;
}

const EVENT_SET: ReadonlySet<string> = new Set(EVENTS);

const isString = (x: unknown): x is string => typeof x === 'string';
const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every(isString);

function isEndpoint(x: unknown): boolean {
  if (x === null) return true;
  if (typeof x !== 'object' || Array.isArray(x)) return false;
  const e = x as Record<string, unknown>;
  return isString(e.addr) && isNumber(e.port);
}

/** A grant event's `grant` object, as record.ts's Grant schema checks it. */
function grantOk(x: unknown): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const g = x as Record<string, unknown>;
  return g.kind === 'restore' && isString(g.path) && isString(g.granted) && isString(g.expires) && (g.from === null || isStringArray(g.from)) && typeof g.keepOwners === 'boolean' && typeof g.delete === 'boolean';
}

const isNullableString = (x: unknown): boolean => x === null || isString(x);

/** A record's `cert` (CertSchema): checked only when present, like every optional field. */
function isCert(x: unknown): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const c = x as Record<string, unknown>;
  const o = c.criticalOptions;
  return (
    isString(c.keyId) &&
    isString(c.serial) &&
    isStringArray(c.principals) &&
    isString(c.ca) &&
    'validAfter' in c &&
    isNullableString(c.validAfter) &&
    'validBefore' in c &&
    isNullableString(c.validBefore) &&
    (o === undefined || (typeof o === 'object' && o !== null && !Array.isArray(o) && Object.values(o).every(isString))) &&
    (c.extensions === undefined || isStringArray(c.extensions))
  );
}

/** The fields both versions share, as LogRecordSchema and RecordLineSchema check them. */
function sharedFieldsOk(r: Record<string, unknown>): boolean {
  return (
    isString(r.event) &&
    EVENT_SET.has(r.event) &&
    isString(r.policy) &&
    isString(r.session) &&
    isNumber(r.pid) &&
    (r.user === null || isString(r.user)) &&
    isEndpoint(r.client) &&
    isEndpoint(r.server) &&
    (r.key === undefined || r.key === null || isString(r.key)) &&
    (r.cert === undefined || isCert(r.cert)) &&
    (r.command === null || isString(r.command)) &&
    (r.argv === null || isStringArray(r.argv)) &&
    (r.code === undefined || isString(r.code)) &&
    (r.status === undefined || r.status === null || isNumber(r.status)) &&
    (r.wouldDeny === undefined || isString(r.wouldDeny)) &&
    (r.options === undefined || isStringArray(r.options)) &&
    (r.exec === undefined || r.exec === 'execve' || r.exec === 'spawn') &&
    (r.transferLog === undefined || isString(r.transferLog)) &&
    (r.signal === undefined || r.signal === null || isString(r.signal)) &&
    (r.rsyncPid === undefined || isNumber(r.rsyncPid)) &&
    (r.family === undefined || r.family === 'rsync' || r.family === 'openrsync') &&
    (r.grant === undefined || grantOk(r.grant)) &&
    // Key presence matters: the schemas require these keys even when null.
    'user' in r &&
    'client' in r &&
    'server' in r &&
    'command' in r &&
    'argv' in r
  );
}

/**
 * The record if `value` is a line of either version (record.ts: version 1
 * satisfies LogRecordSchema, version 2 RecordLineSchema), else why not. A
 * version 2 line comes back as a LogRecord: its time as ISO text, its msg as
 * reason. Optional fields are checked only when present, as the schemas do;
 * unknown fields are ignored.
 */
export function checkRecord(value: unknown): LogRecord | SkipReason {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not-record';
  const r = value as Record<string, unknown>;
  if (r.v === 1) {
    const ok = isString(r.time) && isString(r.reason) && (r.hostname === undefined || isString(r.hostname)) && sharedFieldsOk(r);
    return ok ? (r as unknown as LogRecord) : 'not-record';
  }
  if (r.v === RECORD_VERSION) {
    const ok = isNumber(r.level) && isNumber(r.time) && isString(r.hostname) && isString(r.msg) && sharedFieldsOk(r);
    if (!ok) return 'not-record';
    const time = new Date(r.time as number);
    if (!Number.isFinite(time.getTime())) return 'not-record';
    return { ...(r as unknown as LogRecord), time: time.toISOString(), reason: r.msg as string };
  }
  return typeof r.v === 'number' ? 'other-version' : 'not-record';
}

/** Longest line audit accepts; longer ones are skipped so memory stays bounded. */
export const MAX_LINE = 1 << 20;

// A syslog line carrying a record; the record starts at the brace. rsyslog
// writes `TIMESTAMP HOST TAG: MSG`, the timestamp in its traditional format
// (`Dec  2 05:55:26`, RSYSLOG_TraditionalFileFormat, the default) or in RFC
// 3339 (`2026-12-02T05:55:26.123456+00:00`, RSYSLOG_FileFormat). The header
// gives the host; the time is always the record's own (the gate's clock, to
// the millisecond), so the year the traditional format leaves out is never
// needed. Anything else with a `gatekeeper[PID]: {` in it (a raw datagram,
// `<38>Nov 26 13:00:00 gatekeeper[4242]: {…}`) is read without a host.
const TRADITIONAL = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) gatekeeper(?:\[\d+\])?: (?=\{)/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) (\S+) gatekeeper(?:\[\d+\])?: (?=\{)/;
const SYSLOG_TAG = /(?:^|\s)gatekeeper(?:\[\d+\])?: (?=\{)/;

/**
 * Parse one line (without its newline) into a record, or say why it is
 * skipped. The format is detected per line: the gate's own file, a syslog
 * file, or journald's JSON export, mixed in one input if need be. A record
 * without its own hostname (version 1) takes the host its carrier names: the
 * syslog header's HOST, or journald's _HOSTNAME.
 */
/** The gate's uid as journald exports _UID (a string): root, whose authorized_keys run it. */
const GATE_UID = '0';

export function parseLine(line: string): ParsedLine | SkipReason {
  let text = line;
  let host: string | undefined;
  if (text.length > MAX_LINE) return 'too-long';
  if (text.charCodeAt(0) !== 0x7b /* { */) {
    const m = TRADITIONAL.exec(text) ?? RFC3339.exec(text) ?? SYSLOG_TAG.exec(text);
    if (!m) return 'not-json';
    host = m[1];
    text = text.slice(m.index + m[0].length);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not-json';
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'MESSAGE' in value && !('v' in value)) {
    // A journald export entry (journalctl -o json, systemd-journal-remote): the record is its MESSAGE.
    // Only the gate's: its identifier (which any local user can claim with
    // logger -t), and, where journald gives it, the sender's uid, a trusted
    // field journald fills in itself: the gate runs as root.
    const entry = value as { MESSAGE: unknown; SYSLOG_IDENTIFIER?: unknown; _UID?: unknown; _HOSTNAME?: unknown };
    if (entry.SYSLOG_IDENTIFIER !== 'gatekeeper') return 'not-record';
    if (entry._UID !== undefined && entry._UID !== GATE_UID) return 'not-record';
    const message = journaldMessage(entry.MESSAGE);
    if (message === null) return 'not-record';
    if (typeof entry._HOSTNAME === 'string') host = entry._HOSTNAME;
    text = message;
    try {
      value = JSON.parse(text);
    } catch {
      return 'not-json';
    }
  }
  const record = checkRecord(value);
  if (typeof record === 'string') return record;
  const t = record.v === RECORD_VERSION ? (value as { time: number }).time : Date.parse(record.time);
  if (!Number.isFinite(t)) return 'not-record';
  if (record.hostname === undefined && host !== undefined && host !== '') {
    // --json prints the line as logged, with the host it was carried from.
    record.hostname = host;
    return { record, t, raw: JSON.stringify({ ...(value as object), hostname: host }) };
  }
  return { record, t, raw: text };
}

/** journald writes MESSAGE as a string, or as an array of byte values when it is not valid text. */
function journaldMessage(message: unknown): string | null {
  if (typeof message === 'string') return message;
  if (Array.isArray(message) && message.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Buffer.from(message as number[]).toString('utf8');
  }
  return null;
}

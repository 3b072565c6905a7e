// The log record: one JSON object per line, written by the gate and read by
// `gatekeeper audit`. This module is the contract between the two; change the
// schema version when a field changes meaning.
//
// Version 2 (written today) is a pino line: pino's own fields first, in
// pino's conventions, so that pino-pretty, jq and any pino-aware collector
// read it as it is, then the record's fields:
//   {"level":30,"time":1795698000000,"pid":4242,"hostname":"srv1","v":2,"event":"allow",…,"msg":"allowed: pull …"}
// Version 1 (written before) had an ISO time string, a level label
// ("info"), no hostname, and the reason as `reason`.
//
// Readers get both as one shape, LogRecord: the fields of version 1 (time as
// ISO text, the reason as `reason`) plus hostname when the line had one.
import * as z from 'zod/mini';

import { LEVELS, RECORD_VERSION } from './version.js';

export { LEVELS, RECORD_VERSION };

export const EVENTS = ['allow', 'deny', 'error', 'exit', 'describe', 'answer', 'grant'] as const;
export type GateEvent = (typeof EVENTS)[number];

const Endpoint = z.object({ addr: z.string(), port: z.number() });

/**
 * A grant event's own fields (`gatekeeper grant restore`): the generated
 * policy is the record's `policy` (its sessions carry the same name), the
 * key the record's `key`. Times as ISO 8601 UTC.
 */
const Grant = z.object({
  kind: z.literal('restore'),
  /** The directory the key may push into (the policy's root). */
  path: z.string(),
  granted: z.string(),
  /** When sshd stops the key (expiry-time on its authorized_keys line). */
  expires: z.string(),
  /** The from= addresses, or null for any. */
  from: z.nullable(z.array(z.string())),
  /** setuid: keep (owners and setuid bits as the client sends them). */
  keepOwners: z.boolean(),
  /** --delete allowed. */
  delete: z.boolean(),
});
export type GrantFields = z.infer<typeof Grant>;

/**
 * The certificate the client authenticated with (sshd's ExposeAuthInfo,
 * read by src/gate/key.ts and src/sshd/cert.ts). sshd verified it; this is
 * what it says.
 */
export const CertSchema = z.object({
  /** The key ID (`ssh-keygen -s … -I ID`). */
  keyId: z.string(),
  /** The serial (`-z N`), a uint64 as decimal text: a JSON number would round serials above 2^53. */
  serial: z.string(),
  /** The principals (`-n a,b`); empty: valid for any. */
  principals: z.array(z.string()),
  /** The CA that signed it, `TYPE SHA256:fingerprint` (as `ssh-keygen -l -f CA.pub` prints it). */
  ca: z.string(),
  /** ISO 8601, UTC; null: no lower bound (`-V always:…`). */
  validAfter: z.nullable(z.string()),
  /** ISO 8601, UTC; null: forever. */
  validBefore: z.nullable(z.string()),
  /** Critical options by name (`force-command`, `source-address`), when it has any. */
  criticalOptions: z.optional(z.record(z.string(), z.string())),
  /** Extension names (`permit-pty`, …), when it has any. */
  extensions: z.optional(z.array(z.string())),
});

export type CertRecord = z.infer<typeof CertSchema>;

/** The fields every version shares: what the gate knows about a session and what it decided. */
const shared = {
  /**
   * allow: rsync is about to be exec'd; deny: refused (exit 77); error: configuration or internal error (78/70); exit: the spawn fallback's rsync finished;
   * describe: the gate answered the key holder about its key (code welcome, describe or check), nothing ran;
   * answer: the gate answered a backup tool's question about a path itself (code test-e or df-T; status: the exit it answered with), nothing ran;
   * grant: `gatekeeper grant restore` installed a time-boxed policy for a key (the `grant` field; written by the admin command, not the gate).
   */
  event: z.enum(EVENTS),
  /** Policy name as given on the command line (or the path). */
  policy: z.string(),
  /** Random id shared by every record of one connection. */
  session: z.string(),
  /** The gate's pid; with execve it is also rsync's pid. */
  pid: z.number(),
  user: z.nullable(z.string()),
  client: z.nullable(Endpoint),
  server: z.nullable(Endpoint),
  /** The authenticating key, `TYPE SHA256:fingerprint`, when sshd exposes it (ExposeAuthInfo). */
  key: z.optional(z.nullable(z.string())),
  /** The certificate, when the key was one and sshd exposes it: who it names, its serial, its CA and validity. */
  cert: z.optional(CertSchema),
  /** SSH_ORIGINAL_COMMAND verbatim; null when the client asked for a shell. */
  command: z.nullable(z.string()),
  /** The argv that runs (allow) or would have run; null when there is none. */
  argv: z.nullable(z.array(z.string())),
  /** Machine-readable reason code (e.g. option-refused, path-outside-root, busy). */
  code: z.optional(z.string()),
  /** The exit status the gate ends with (deny/error), or rsync's status (exit). */
  status: z.optional(z.nullable(z.number())),
  /** In a permissive policy, the refusal that was waived. */
  wouldDeny: z.optional(z.string()),
  /** The option names the refusal concerns, for `audit --suggest`. */
  options: z.optional(z.array(z.string())),
  /** How rsync was started: execve (same pid) or spawn (child). */
  exec: z.optional(z.enum(['execve', 'spawn'])),
  /** The --log-file rsync writes for this session (policy transferLog). */
  transferLog: z.optional(z.string()),
  /** The signal that ended rsync (exit events of the spawn fallback). */
  signal: z.optional(z.nullable(z.string())),
  /** The spawn fallback's rsync, a child of the gate: its pid, which rsync's --log-file lines carry (exit events). */
  rsyncPid: z.optional(z.number()),
  /** The client family, where the command's shape shows it: openrsync sends separate option words, rsync clusters them. */
  family: z.optional(z.enum(['rsync', 'openrsync'])),
  /** grant events: what was granted (see Grant). */
  grant: z.optional(Grant),
};

/** A record as audit and the tests read it, whatever version the line was (see parseRecordLine). */
export const LogRecordSchema = z.object({
  /** Schema version of the line the record was read from. */
  v: z.union([z.literal(1), z.literal(RECORD_VERSION)]),
  /** ISO 8601 time with milliseconds, UTC. */
  time: z.string(),
  ...shared,
  /** The server's host name; absent in version 1 lines (audit then takes it from a syslog header or journald). */
  hostname: z.optional(z.string()),
  /** Why: an admin-actionable sentence (`msg` in a version 2 line). */
  reason: z.string(),
});

export type LogRecord = z.infer<typeof LogRecordSchema>;

/** A version 2 line, as pino writes it for the gate. */
export const RecordLineSchema = z.object({
  /** pino's level: 30 allow and exit, 40 deny, 50 error. */
  level: z.number(),
  /** Milliseconds since the epoch (pino's default). */
  time: z.number().check(z.refine((t) => Number.isFinite(new Date(t).getTime()), 'time must be a valid time')),
  /** The server's host name, os.hostname() (pino's default). */
  hostname: z.string(),
  v: z.literal(RECORD_VERSION),
  ...shared,
  /** Why: an admin-actionable sentence. */
  msg: z.string(),
});

export type RecordLine = z.infer<typeof RecordLineSchema>;

/** What the gate hands the writer: pino adds level, time, pid and hostname, and writes the reason as msg. */
export type GateEntry = Omit<RecordLine, 'level' | 'time' | 'pid' | 'hostname' | 'msg'> & { reason: string };

/** A version 1 line: the record with its ISO time, reason and a level label. */
export const RecordLineV1Schema = z.object({ ...LogRecordSchema.shape, v: z.literal(1) });

/** A version 2 line as a LogRecord. */
export function fromLine(line: RecordLine): LogRecord {
  const { level: _level, time, msg, ...rest } = line;
  return { ...rest, time: new Date(time).toISOString(), reason: msg };
}

/** Parse one log line of either version; null for anything that is not a record. */
export function parseRecordLine(line: string): LogRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (v === RECORD_VERSION) {
    const result = RecordLineSchema.safeParse(value);
    return result.success ? fromLine(result.data) : null;
  }
  const result = RecordLineV1Schema.safeParse(value);
  return result.success ? result.data : null;
}

// The log record: one JSON object per line, written by the gate and read by
// `gatekeeper audit`. This module is the contract between the two; change the
// schema version when a field changes meaning.
import * as z from 'zod/mini';

import { RECORD_VERSION } from './version.js';

export { RECORD_VERSION };

export const EVENTS = ['allow', 'deny', 'error', 'exit'] as const;
export type GateEvent = (typeof EVENTS)[number];

const Endpoint = z.object({ addr: z.string(), port: z.number() });

export const LogRecordSchema = z.object({
  /** Schema version of this record. */
  v: z.literal(RECORD_VERSION),
  /** ISO 8601 time with milliseconds, UTC. */
  time: z.string(),
  /** allow: rsync is about to be exec'd; deny: refused (exit 77); error: configuration or internal error (78/70); exit: the spawn fallback's rsync finished. */
  event: z.enum(EVENTS),
  /** Policy name as given on the command line (or the path). */
  policy: z.string(),
  /** Random id shared by every record of one connection. */
  session: z.string(),
  /** The gate's pid; with execve it is also rsync's pid. */
  pid: z.number(),
  /** The server's host name; absent in records written before it was logged (audit then takes it from a syslog header). */
  hostname: z.optional(z.string()),
  user: z.nullable(z.string()),
  client: z.nullable(Endpoint),
  server: z.nullable(Endpoint),
  /** The authenticating key, `TYPE SHA256:fingerprint`, when sshd exposes it (ExposeAuthInfo). */
  key: z.optional(z.nullable(z.string())),
  /** SSH_ORIGINAL_COMMAND verbatim; null when the client asked for a shell. */
  command: z.nullable(z.string()),
  /** The argv that runs (allow) or would have run; null when there is none. */
  argv: z.nullable(z.array(z.string())),
  /** Why: an admin-actionable sentence. */
  reason: z.string(),
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
});

export type LogRecord = z.infer<typeof LogRecordSchema>;

/** Parse one log line; null for anything that is not a record of this version. */
export function parseRecordLine(line: string): LogRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const result = LogRecordSchema.safeParse(value);
  return result.success ? result.data : null;
}

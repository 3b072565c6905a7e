// The policy file's schema: the contract with the admin. Built with zod/mini
// because it sits on the gate's path (full zod costs ~20 ms of start-up).
import * as z from 'zod/mini';
import { validAddressEntry } from '../net.js';
import { DEFAULT_STATE_DIR } from '../paths.js';
import { isTimeZone, RANGE_PATTERN, rangeProblem } from '../window.js';

const absolutePath = (what: string) =>
  z.string().check(
    z.refine((s) => s.startsWith('/'), `${what} must be an absolute path`),
    z.refine((s) => !s.split('/').includes('..'), `${what} must not contain '..'`),
    z.refine((s) => !/[\0\n\r]/.test(s), `${what} must not contain NUL or newlines`),
  );

const ipOrCidr = z.string().check(
  z.refine(validAddressEntry, 'from entries are IP addresses or CIDRs (e.g. 192.0.2.10, 198.51.100.0/24, 2001:db8::/32)'),
);

// A range's form is a pattern (editors see it in the JSON Schema); an empty range is refused apart.
const windowRange = z.string().check(
  z.regex(new RegExp(RANGE_PATTERN), { error: (i) => rangeProblem(String(i.input))!, abort: true }),
  z.refine((s) => rangeProblem(s) === null, { error: (i) => rangeProblem(String(i.input))! }),
);

const timeZone = z.string().check(
  z.refine(isTimeZone, { error: (i) => `"${String(i.input)}" is not a time zone name (an IANA name such as Europe/Berlin, America/New_York or UTC)` }),
);

export const ACCESS = ['read-only', 'write-only', 'read-write'] as const;
export type Access = (typeof ACCESS)[number];

export const DEFAULT_LOG = '/var/log/gatekeeper/gatekeeper.log';
export { DEFAULT_STATE_DIR };

export const PolicySchema = z.strictObject({
  /** Free text for the admin; not used by the gate. */
  description: z.optional(z.string()),
  /** Absolute path of the rsync that runs, e.g. a custom build in /usr/local/bin. The client's path is never used. */
  rsync: z._default(absolutePath('rsync'), '/usr/bin/rsync'),
  /** read-only: the client may only pull; write-only: only push; read-write: both. */
  access: z._default(z.enum(ACCESS), 'read-only'),
  /** Every path must resolve inside this directory. */
  root: z._default(absolutePath('root'), '/'),
  /** Allow --delete*, --remove-source-files and --remove-sent-files. */
  delete: z._default(z.boolean(), false),
  /** false: force --ignore-existing and refuse what can replace other files. */
  overwrite: z._default(z.boolean(), true),
  /** Force --munge-links on the server. */
  mungeLinks: z._default(z.boolean(), false),
  /** Daemon over ssh: only `rsync --server --daemon .` is allowed; it runs with this rsyncd.conf. */
  daemon: z.optional(z.strictObject({ config: absolutePath('daemon.config') })),
  /** 0 = unlimited; N = refuse ("busy") beyond N concurrent sessions of this policy. */
  maxConnections: z._default(z.int().check(z.gte(0), z.lte(10000)), 0),
  /** Client addresses or CIDRs allowed to use this policy (from SSH_CONNECTION). */
  // An empty list would read as "any client" to one admin and "no client" to another: refused.
  from: z.optional(z.array(ipOrCidr).check(z.minLength(1, 'list at least one address or CIDR (leave out "from" to allow any client address)'))),
  /** Widen (allow) or narrow (deny) the default option set; names as `--long-name` or `-x`. */
  options: z._default(
    z.strictObject({
      allow: z._default(z.array(z.string()), []),
      deny: z._default(z.array(z.string()), []),
    }),
    { allow: [], deny: [] },
  ),
  /** false = permissive: log what would be refused, run it anyway if it is a well-formed rsync server call. */
  enforce: z._default(z.boolean(), true),
  /** Log file path, or "syslog" for the local syslog socket. */
  log: z._default(z.union([z.literal('syslog'), absolutePath('log')]), DEFAULT_LOG),
  /** With log: syslog, the local syslog socket to send to (default /dev/log): e.g. a chroot's or a container's. */
  syslogSocket: z.optional(absolutePath('syslogSocket')),
  /** When set, the gate adds --log-file=PATH so rsync records the transfer's outcome. */
  transferLog: z.optional(absolutePath('transferLog')),
  /** Where maxConnections keeps its slots (a root-owned tmpfs directory). */
  stateDir: z._default(absolutePath('stateDir'), DEFAULT_STATE_DIR),
  /** Add --confine-root=ROOT when root is not /: auto = when the rsync build supports it. */
  confineRoot: z._default(z.union([z.boolean(), z.literal('auto')]), 'auto'),
  /**
   * Pushes (the server receives, as root): strip = the gate forces --chmod=ugo-s (and, with -X, drops the
   * security.capability attribute), so nothing lands setuid, setgid or with file capabilities, and refuses
   * --usermap/--groupmap (a client's --chown) onto uid/gid 0. keep = files keep the bits and owners the client
   * sends: only for a full-system restore that needs them.
   */
  setuid: z._default(z.enum(['strip', 'keep']), 'strip'),
  /** Allow `ssh host true` as a connectivity check (exits 0, runs nothing), as rrsync does. */
  allowTrue: z._default(z.boolean(), true),
  /** Wall-clock ranges "HH:MM-HH:MM" (start inclusive, end exclusive; 22:00-06:00 crosses midnight) outside which sessions are refused ("outside-window"); `true` stays allowed. */
  window: z.optional(z.array(windowRange).check(z.minLength(1, 'list at least one range HH:MM-HH:MM (leave out "window" to allow any time)'))),
  /** The IANA time zone the window is in; default the server's local zone. */
  timezone: z.optional(timeZone),
  /**
   * Answer the key holder's `ssh root@HOST` (no command: a welcome naming what this key may do),
   * `gatekeeper describe --json` and `gatekeeper check [--json] -- 'CMD'`: nothing runs. false: refused like any other command.
   */
  describe: z._default(z.boolean(), true),
});

export type PolicyInput = z.input<typeof PolicySchema>;
export type Policy = z.output<typeof PolicySchema>;

/** A loaded policy with where it came from. */
export interface LoadedPolicy {
  name: string;
  file: string;
  policy: Policy;
}

// What the gate tells a key holder about its key (`gatekeeper describe
// --json`, answered by the gate: src/gate/describe.ts), as the backup
// machine's commands read it (probe, enroll). This module is the contract
// between the two; docs/describe.schema.json is generated from it
// (test/gate/describe.test.ts holds the file equal to toJSONSchema of this,
// and validates real answers against it).
import * as z from 'zod/mini';
import { DESCRIBE_VERSION } from './version.js';

export { DESCRIBE_VERSION };

export const DescribeSchema = z.object({
  /** Version of this shape. */
  v: z.literal(DESCRIBE_VERSION),
  /** The gatekeeper version answering. */
  gatekeeper: z.string(),
  /** The server's host name (os.hostname()). */
  host: z.string(),
  /** The SSH user the key logged in as. */
  user: z.nullable(z.string()),
  /** The address and port the client connected to (SSH_CONNECTION). */
  server: z.nullable(z.object({ addr: z.string(), port: z.number() })),
  /** The client's address as the server sees it: the one `from` is matched against. */
  client: z.nullable(z.string()),
  policy: z.object({
    /** The name the forced command gives (--policy). */
    name: z.string(),
    /** The policy file. */
    file: z.string(),
    description: z.nullable(z.string()),
  }),
  /** read-only, write-only or read-write. */
  access: z.enum(['read-only', 'write-only', 'read-write']),
  /** The client may pull (rsync HOST:PATH DEST) or push (rsync SRC HOST:PATH); false for both in a daemon policy, which serves modules instead. */
  pull: z.boolean(),
  push: z.boolean(),
  /** A daemon policy: only HOST::MODULE; the module names in its rsyncd.conf. */
  daemon: z.nullable(z.object({ modules: z.array(z.string()) })),
  /** Every path resolves inside this directory. */
  root: z.string(),
  /** Deletions on the server are allowed (--delete on a push). */
  delete: z.boolean(),
  /** The backup window, when the policy has one. */
  window: z.nullable(z.object({ ranges: z.array(z.string()), timezone: z.string(), open: z.boolean() })),
  /** Client addresses allowed; null: any. */
  from: z.nullable(z.array(z.string())),
  /** The rsync the gate runs. */
  rsync: z.object({
    path: z.string(),
    /** e.g. 3.2.7; null when `rsync --version` gave no answer. */
    version: z.nullable(z.string()),
    /** The protocol number it speaks, e.g. 31. */
    protocol: z.nullable(z.number()),
  }),
  /** A client command line that this policy allows (KEY and DEST to fill in). */
  command: z.string(),
});

export type Describe = z.infer<typeof DescribeSchema>;

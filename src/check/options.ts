// `gatekeeper check`'s options: what command.ts parses and index.ts runs with,
// in a file of their own so that neither of the two imports the other.
export interface CheckOptions {
  policy: string;
  policyDir: string;
  json?: boolean;
  client?: string;
  user?: string;
  at?: string;
}

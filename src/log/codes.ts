// The codes a `deny` record can carry: the closed set audit's metrics and
// check use as a label (a Prometheus label must have bounded values; a code
// read from a log that is not in this list is counted as `other`). The type
// assertion below fails the typecheck when the gate learns a refusal code
// this list does not name.
import type { RefusalCode } from '../decide.js';
import type { ParseErrorCode } from '../rsync/grammar.js';

export const REFUSAL_CODES = [
  // the shell tokenizer and the rsync grammar (src/evaluate.ts)
  'shell',
  'shell-syntax',
  'not-rsync',
  'not-server',
  'syntax',
  'unknown-option',
  'always-refused',
  // decide(): what the policy refuses
  'access',
  'delete-refused',
  'overwrite-refused',
  'follow-links-refused',
  'option-not-allowed',
  'option-denied',
  'from',
  'daemon-only',
  'not-daemon-policy',
  'path-outside-root',
  'glob-too-broad',
  'outside-window',
  'root-map-refused',
  // the gate's runner (src/gate/main.ts)
  'path-changed',
  'busy',
] as const;

export type LoggedRefusalCode = (typeof REFUSAL_CODES)[number];

/** The label value for a record's code: itself when known, else `other`. */
export const OTHER_CODE = 'other';
const KNOWN = new Set<string>(REFUSAL_CODES);
export const refusalLabel = (code: string | undefined): string => (code !== undefined && KNOWN.has(code) ? code : OTHER_CODE);

// Every code decide() and the grammar can produce must be listed above.
type Unlisted = Exclude<RefusalCode | ParseErrorCode | 'shell-syntax' | 'shell' | 'path-changed' | 'busy', LoggedRefusalCode>;
const everyCodeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyCodeListed;

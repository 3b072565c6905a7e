// The gate's whole decision, from the session's command string to a
// Decision: tokenize → parse the rsync grammar → decide. Shared by `gate`
// (which then logs and execs) and `check` (which only prints).
import { decide, type Decision, type Facts } from './decide.js';
import type { Policy } from './policy/schema.js';
import { parseServerArgs, type ClientFamily } from './rsync/grammar.js';
import type { Session } from './session.js';
import { tokenize } from './shell/tokenize.js';

/** A decision, with the client family where the command's shape shows it (the log records it). */
export type Evaluated = Decision & { family?: ClientFamily };

export function evaluate(session: Session, policy: Policy, facts: Facts): Evaluated {
  const command = session.originalCommand;
  if (command === null) {
    return { verdict: 'deny', code: 'shell', reason: 'this key runs rsync only: an interactive shell was requested (no command given)', argv: null };
  }
  const tokens = tokenize(command);
  if (!tokens.ok) return { verdict: 'deny', code: tokens.code, reason: tokens.reason, argv: null };
  const parsed = parseServerArgs(tokens.words);
  if (!parsed.ok) {
    const d: Decision = { verdict: 'deny', code: parsed.code, reason: parsed.reason, argv: null };
    if (parsed.option) d.options = [parsed.option];
    return d;
  }
  const d: Evaluated = decide(session, parsed.command, policy, facts);
  if (parsed.command.kind === 'server' && parsed.command.family) d.family = parsed.command.family;
  return d;
}

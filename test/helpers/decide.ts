// The pieces the in-process decision tests share: a session from a fixed
// client, and a command string read as the gate reads it (tokenize, then the
// rsync server grammar), throwing on anything either refuses.
import { parseServerArgs, type ParsedCommand } from '../../src/rsync/grammar.js';
import { tokenize } from '../../src/shell/tokenize.js';
import type { Session } from '../../src/session.js';

export const session: Session = { originalCommand: null, client: { addr: '192.0.2.10', port: 40000 }, server: null, user: 'root', userAuthFile: null };

export function parse(command: string): ParsedCommand {
  const t = tokenize(command);
  if (!t.ok) throw new Error(t.reason);
  const p = parseServerArgs(t.words);
  if (!p.ok) throw new Error(p.reason);
  return p.command;
}

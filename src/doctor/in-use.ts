// `gatekeeper doctor --in-use PATH`: does a forced command still run PATH?
// The .deb's prerm and the .rpm's %preun ask it before /usr/bin/gatekeeper
// goes, so that removing the package never leaves sshd running a command that
// is gone without saying so. Read-only: the authorized_keys files install
// recorded in CONFIG-DIR/install-state.json, root's, and any given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuthorizedKeys, getOption } from '../sshd/authorized-keys.js';
import { lookupUser } from '../sshd/passwd.js';
import { parseGateCommand } from './checks.js';

export interface ForcedCommand {
  file: string;
  /** 1-based line number. */
  line: number;
  command: string;
}

const readText = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/** The authorized_keys files install recorded (install-state.json's keys), when there is a readable manifest. */
function recordedFiles(configDir: string): string[] {
  const text = readText(join(configDir, 'install-state.json'));
  if (text === null) return [];
  try {
    const state = JSON.parse(text) as { keys?: { file?: unknown }[] };
    return (state.keys ?? []).map((k) => k.file).filter((f): f is string => typeof f === 'string' && f.startsWith('/'));
  } catch {
    return [];
  }
}

/** Every gate line, in those files, whose command runs `path`. */
export async function forcedCommandsRunning(path: string, configDir: string, extra: readonly string[] = []): Promise<ForcedCommand[]> {
  const root = await lookupUser('root');
  const files = new Set([...recordedFiles(configDir), ...(root ? [join(root.home, '.ssh', 'authorized_keys')] : []), ...extra]);
  const out: ForcedCommand[] = [];
  for (const file of files) {
    const text = readText(file);
    if (text === null) continue;
    for (const [i, l] of parseAuthorizedKeys(text).entries()) {
      if (l.kind !== 'key') continue;
      const command = getOption(l.options, 'command')?.value;
      const gate = command ? parseGateCommand(command) : null;
      if (gate && command && gate.launcher === path) out.push({ file, line: i + 1, command });
    }
  }
  return out;
}

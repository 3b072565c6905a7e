// A precise reader of man/gatekeeper.8's COMMANDS section: each command is an
// `.SS gatekeeper PATH` heading; each option an `.TP` whose term line is
// the flags (`\fB\-\-flag\fR`, more spellings after ", ", then the value in `\fI`).
export interface ManEntries {
  /** command path ("policy validate") → its long and short flags documented. */
  readonly commands: ReadonlyMap<string, ReadonlySet<string>>;
}

const unescape = (s: string): string => s.replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '').replace(/"/g, '');

export function readManEntries(text: string): ManEntries {
  const commands = new Map<string, Set<string>>();
  const lines = text.split('\n');
  let inCommands = false;
  let current: Set<string> | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('.SH ')) {
      inCommands = line.trim() === '.SH COMMANDS';
      current = null;
    } else if (inCommands && line.startsWith('.SS ')) {
      const name = unescape(line.slice(4)).trim().replace(/^gatekeeper\s*/, '');
      current = new Set();
      commands.set(name, current);
    } else if (inCommands && current && line.trim() === '.TP') {
      const term = unescape((lines[i + 1] ?? '').replace(/^\.(B|BR|BI)\s+/, ''));
      for (const m of term.matchAll(/(?:^|[\s,|])(--?[A-Za-z0-9][A-Za-z0-9-]*)/g)) current.add(m[1]!);
    }
  }
  return { commands };
}

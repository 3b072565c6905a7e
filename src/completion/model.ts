// What shell completion knows, read from the commander tree itself (the same
// Help methods --help prints from), so a new command or option completes
// without anyone touching this folder. Pure: no file is read here; the
// generated scripts list the policy directory when the user presses TAB.
import type { Command, Option } from 'commander';
import { Help } from 'commander';

/** How an option's value (or a positional argument) is completed. */
export type ValueKind =
  | { kind: 'policy' } // names in the policy directories, or a file path
  | { kind: 'host' } // the shell's own host-name completion (/etc/hosts, known_hosts): no lookup
  | { kind: 'dir' }
  | { kind: 'file' }
  | { kind: 'choices'; choices: readonly string[] }
  | { kind: 'text' }; // free text: nothing to offer

export interface OptionModel {
  readonly flags: readonly string[]; // '-h', '--help'
  readonly description: string;
  readonly value: ValueKind | null; // null: takes no value
}

export interface CommandModel {
  readonly path: readonly string[]; // [] for gatekeeper itself, ['policy', 'validate']
  readonly description: string;
  readonly options: readonly OptionModel[];
  readonly commands: readonly CommandModel[];
  /** What the positional arguments complete to (null: none, or free text). */
  readonly operands: ValueKind | null;
}

/** Shipped policies (scripts/lib/package-files.mjs: SHARE/policies); install copies from here. */
export const SHIPPED_POLICY_DIR = '/usr/share/gatekeeper/policies';

// Completion by the value's name, as commander spells it in the flags
// (`--policy <name|path>`, `--policy-dir <dir>`) and the option's name.
function valueKind(opt: Option): ValueKind | null {
  if (!opt.required && !opt.optional) return null;
  if (opt.argChoices && opt.argChoices.length > 0) return { kind: 'choices', choices: opt.argChoices };
  const name = opt.attributeName();
  const meta = /[<[]([^>\]]*)[>\]]/.exec(opt.flags)?.[1] ?? '';
  if (name === 'policy') return { kind: 'policy' };
  if (name === 'host') return { kind: 'host' };
  if (/(^|\|)dir$/.test(meta) || /Dir$/.test(name)) return { kind: 'dir' };
  if (/(^|\|)(file|path)(\||$)/.test(meta)) return { kind: 'file' };
  return { kind: 'text' };
}

function operandKind(cmd: Command): ValueKind | null {
  const first = cmd.registeredArguments[0];
  if (!first) return null;
  if (first.argChoices && first.argChoices.length > 0) return { kind: 'choices', choices: first.argChoices };
  if (/^polic(y|ies)$/.test(first.name())) return { kind: 'policy' };
  return null;
}

export function commandModel(cmd: Command, path: readonly string[] = []): CommandModel {
  const help = new Help();
  const options = help.visibleOptions(cmd).map((o) => ({
    flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
    description: o.description,
    value: valueKind(o),
  }));
  const commands = cmd.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .map((c) => commandModel(c, [...path, c.name()]));
  return { path, description: cmd.summary() || cmd.description().split('\n')[0] || '', options, commands, operands: operandKind(cmd) };
}

/** Every command of the tree, the root first. */
export function allCommands(root: CommandModel): CommandModel[] {
  return [root, ...root.commands.flatMap(allCommands)];
}

/** The `--policy-dir` default of the tree (where policy names are looked up), and the shipped ones. */
export function policyDirs(program: Command): string[] {
  const dirs = new Set<string>();
  const walk = (c: Command): void => {
    for (const o of c.options) if (o.long === '--policy-dir' && typeof o.defaultValue === 'string') dirs.add(o.defaultValue);
    c.commands.forEach(walk);
  };
  walk(program);
  dirs.add(SHIPPED_POLICY_DIR);
  return [...dirs];
}

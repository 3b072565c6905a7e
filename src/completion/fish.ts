// `gatekeeper completion fish`: `complete` lines for fish from the command
// model. Same walk as the bash and zsh scripts: __gatekeeper_where follows
// the words typed so far down the command tree (skipping the value after an
// option that takes one) and prints the command's key; each completion is
// conditioned on that key. Policy names are the files in the policy
// directories (--policy-dir when given on the line); nothing else is read.
import type { CommandModel, ValueKind } from './model.js';
import { allCommands } from './model.js';
import { key, safeWord, sq } from './bash.js';

function fishValue(v: ValueKind, dirs: readonly string[]): string {
  switch (v.kind) {
    case 'policy':
      return `-f -a ${sq(`(__gatekeeper_policies ${dirs.map(sq).join(' ')})`)}`;
    case 'host':
      return `-f -a ${sq('(__fish_print_hostnames)')}`;
    case 'dir':
      return `-f -a ${sq('(__fish_complete_directories)')}`;
    case 'file':
      return '-F';
    case 'choices':
      return `-f -a ${sq(v.choices.map(safeWord).join(' '))}`;
    case 'text':
      return '-f';
  }
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

export function fishScript(root: CommandModel, dirs: readonly string[]): string {
  const cmds = allCommands(root);
  const steps: string[] = [];
  for (const c of cmds) {
    for (const s of c.commands) steps.push(`      case ${sq(`${key(c.path)}|${safeWord(s.path.at(-1)!)}`)}\n        set path ${sq(key(s.path))}`);
    for (const o of c.options.filter((o) => o.value)) for (const f of o.flags) steps.push(`      case ${sq(`${key(c.path)}|${safeWord(f)}`)}\n        set skip 1`);
  }
  const lines: string[] = [];
  const at = (c: CommandModel): string => `-n ${sq(`__gatekeeper_at ${sq(key(c.path))}`)}`;
  for (const c of cmds) {
    for (const s of c.commands) lines.push(`complete -c gatekeeper ${at(c)} -f -a ${sq(safeWord(s.path.at(-1)!))} -d ${sq(oneLine(s.description))}`);
    for (const o of c.options) {
      const names = o.flags.map((f) => (f.startsWith('--') ? `-l ${safeWord(f).slice(2)}` : `-s ${safeWord(f).slice(1)}`)).join(' ');
      const value = o.value ? ` -r ${fishValue(o.value, dirs)}` : ' -f';
      lines.push(`complete -c gatekeeper ${at(c)} ${names}${value} -d ${sq(oneLine(o.description))}`);
    }
    if (c.operands) lines.push(`complete -c gatekeeper ${at(c)} ${fishValue(c.operands, dirs)}`);
    else if (c.commands.length === 0) lines.push(`complete -c gatekeeper ${at(c)} -f`);
  }
  return `# fish completion for gatekeeper(8), generated from its command definitions
# by \`gatekeeper completion fish\`. Policy names are the files in the policy
# directories (--policy-dir when given); nothing else is read.
complete -c gatekeeper -e
function __gatekeeper_where
    set -l path ''
    set -l skip 0
    for t in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch "$path|$t"
${steps.join('\n')}
        end
    end
    echo $path
end
function __gatekeeper_at
    test (__gatekeeper_where) = $argv[1]
end
function __gatekeeper_policies
    set -l dirs $argv
    set -l words (commandline -opc)
    for i in (seq (count $words))
        if test $words[$i] = --policy-dir; and test $i -lt (count $words)
            set dirs $words[(math $i + 1)]
        else if string match -q -- '--policy-dir=*' $words[$i]
            set dirs (string replace -- '--policy-dir=' '' $words[$i])
        end
    end
    set -l token (commandline -ct)
    if string match -q -- '/*' $token
        __fish_complete_path $token
        return
    end
    for d in $dirs
        for f in $d/*.yaml $d/*.yml $d/*.json
            test -f $f; and string replace -r '\\.(yaml|yml|json)$' '' (path basename $f)
        end
    end
end
${lines.join('\n')}
`;
}

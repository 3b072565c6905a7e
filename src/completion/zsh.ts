// `gatekeeper completion zsh`: a zsh completion function (#compdef) from the
// command model, with each command's and option's description beside it.
// Same walk as the bash script (bash.ts); the values use zsh's own _files,
// _hosts and compadd.
import type { CommandModel, ValueKind } from './model.js';
import { allCommands } from './model.js';
import { key, safeWord, sq } from './bash.js';

function zshValue(v: ValueKind, dirs: readonly string[]): string {
  switch (v.kind) {
    case 'policy':
      return `_gatekeeper_policies ${dirs.map(sq).join(' ')}`;
    case 'host':
      return '_hosts';
    case 'dir':
      return '_files -/';
    case 'file':
      return '_files';
    case 'choices':
      return `compadd -- ${v.choices.map(safeWord).join(' ')}`;
    case 'text':
      return "_message 'a value'";
  }
}

// One line of a _describe list: NAME:DESCRIPTION, single-quoted.
const item = (name: string, description: string): string => sq(`${safeWord(name)}:${description.replace(/\s+/g, ' ')}`);

export function zshScript(root: CommandModel, dirs: readonly string[]): string {
  const cmds = allCommands(root);
  const caseOf = (rows: [string, string][]): string => rows.map(([k, body]) => `    ${sq(k)}) ${body} ;;`).join('\n');
  const subcommands = caseOf(
    cmds.filter((c) => c.commands.length > 0).map((c) => [key(c.path), `reply=(${c.commands.map((s) => item(s.path.at(-1)!, s.description)).join(' ')})`]),
  );
  const options = caseOf(cmds.map((c) => [key(c.path), `reply=(${c.options.flatMap((o) => o.flags.map((f) => item(f, o.description))).join(' ')})`]));
  const valuedList = caseOf(cmds.map((c) => [key(c.path), `reply=(${c.options.filter((o) => o.value).flatMap((o) => o.flags.map(safeWord)).join(' ')})`]));
  const valued = cmds.flatMap((c) => c.options.filter((o) => o.value).flatMap((o) => o.flags.map((f) => [`${key(c.path)}|${f}`, zshValue(o.value!, dirs)] as [string, string])));
  const operands = cmds.filter((c) => c.operands).map((c) => [key(c.path), zshValue(c.operands!, dirs)] as [string, string]);
  return `#compdef gatekeeper
# zsh completion for gatekeeper(8), generated from its command definitions by
# \`gatekeeper completion zsh\`. Policy names are the files in the policy
# directories (--policy-dir when given); nothing else is read.
_gatekeeper_subcommands() {
  reply=()
  case "$1" in
${subcommands}
  esac
}
_gatekeeper_options() {
  reply=()
  case "$1" in
${options}
  esac
}
_gatekeeper_valued() {
  reply=()
  case "$1" in
${valuedList}
  esac
}
# Completes the value of option $2 of command "$1"; status 1: $2 takes none.
_gatekeeper_value() {
  case "$1|$2" in
${caseOf(valued)}
    *) return 1 ;;
  esac
  return 0
}
_gatekeeper_operand() {
  case "$1" in
${caseOf(operands)}
    *) _message 'no more arguments' ;;
  esac
}
_gatekeeper_policies() {
  local d f
  local -a names
  if [[ $PREFIX == /* ]]; then
    _files
    return
  fi
  [[ -n $policy_dir ]] && set -- "$policy_dir"
  for d in "$@"; do
    for f in "$d"/*.(yaml|yml|json)(N-.); do
      names+=("\${\${f:t}:r}")
    done
  done
  compadd -a names
}
_gatekeeper() {
  local cmdpath="" w policy_dir=""
  local -a reply
  local -i i
  for ((i = 2; i < CURRENT; i++)); do
    w=$words[i]
    if [[ $w == -- ]]; then
      _gatekeeper_operand "$cmdpath"
      return
    elif [[ $w == -* ]]; then
      _gatekeeper_valued "$cmdpath"
      if (( \${reply[(Ie)$w]} )); then
        [[ $w == --policy-dir ]] && policy_dir=$words[i+1]
        ((i++))
      fi
    else
      _gatekeeper_subcommands "$cmdpath"
      (( \${reply[(I)$w:*]} )) && cmdpath=\${cmdpath:+$cmdpath }$w
    fi
  done
  w=$words[CURRENT-1]
  if (( CURRENT > 2 )) && [[ $w == -* ]] && _gatekeeper_value "$cmdpath" "$w"; then
    return
  fi
  if [[ $PREFIX == -* ]]; then
    _gatekeeper_options "$cmdpath"
    _describe -t options option reply
  else
    _gatekeeper_subcommands "$cmdpath"
    if (( $#reply )); then
      _describe -t commands 'gatekeeper command' reply
    else
      _gatekeeper_operand "$cmdpath"
    fi
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _gatekeeper "$@"
else
  compdef _gatekeeper gatekeeper
fi
`;
}

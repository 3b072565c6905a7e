// `gatekeeper completion bash`: a bash-completion script from the command
// model. The tables (subcommands, options, which options take a value and
// how it completes) are generated case statements; the walk over the words
// typed so far is the same few lines for every tree.
import type { CommandModel, ValueKind } from './model.js';
import { allCommands } from './model.js';

/** Names and flags go into the script unquoted: only these characters may. */
export function safeWord(w: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(w)) throw new Error(`completion: unsafe word ${JSON.stringify(w)}`);
  return w;
}

/** A path as the scripts key their tables: words joined by one space. */
export const key = (path: readonly string[]): string => path.map(safeWord).join(' ');

/** A single-quoted shell word (bash and zsh read it alike). */
export const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function bashValue(v: ValueKind, dirs: readonly string[]): string {
  switch (v.kind) {
    case 'policy':
      return `_gatekeeper_policies ${dirs.map(sq).join(' ')}`;
    case 'host':
      return 'COMPREPLY=($(compgen -A hostname -- "$cur"))';
    case 'dir':
      return 'COMPREPLY=($(compgen -d -- "$cur"))';
    case 'file':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
    case 'choices':
      return `COMPREPLY=($(compgen -W ${sq(v.choices.map(safeWord).join(' '))} -- "$cur"))`;
    case 'text':
      return 'COMPREPLY=()';
  }
}

export function bashScript(root: CommandModel, dirs: readonly string[]): string {
  const cmds = allCommands(root);
  const caseOf = (rows: [string, string][]): string => rows.map(([k, body]) => `    ${sq(k)}) ${body} ;;`).join('\n');
  const subcommands = caseOf(cmds.filter((c) => c.commands.length > 0).map((c) => [key(c.path), `echo ${c.commands.map((s) => safeWord(s.path.at(-1)!)).join(' ')}`]));
  const options = caseOf(cmds.map((c) => [key(c.path), `echo ${c.options.flatMap((o) => o.flags.map(safeWord)).join(' ')}`]));
  const valued = cmds.flatMap((c) => c.options.filter((o) => o.value).flatMap((o) => o.flags.map((f) => [`${key(c.path)}|${f}`, bashValue(o.value!, dirs)] as [string, string])));
  const valuedList = caseOf(cmds.map((c) => [key(c.path), `echo ${c.options.filter((o) => o.value).flatMap((o) => o.flags.map(safeWord)).join(' ')}`]));
  const operands = cmds.filter((c) => c.operands).map((c) => [key(c.path), bashValue(c.operands!, dirs)] as [string, string]);
  return `# bash completion for gatekeeper(8), generated from its command definitions
# by \`gatekeeper completion bash\`. Policy names are the files in the policy
# directories (--policy-dir when given); nothing else is read.
_gatekeeper_subcommands() {
  case "$1" in
${subcommands}
  esac
}
_gatekeeper_options() {
  case "$1" in
${options}
  esac
}
_gatekeeper_valued() {
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
    *) COMPREPLY=() ;;
  esac
}
_gatekeeper_policies() {
  local d f
  COMPREPLY=()
  if [[ $cur == /* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  [[ -n $policy_dir ]] && set -- "$policy_dir"
  for d in "$@"; do
    for f in "$d"/*.yaml "$d"/*.yml "$d"/*.json; do
      [[ -f $f ]] || continue
      f=\${f##*/}
      f=\${f%.*}
      [[ $f == "$cur"* ]] && COMPREPLY+=("$f")
    done
  done
}
_gatekeeper() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" w i sub policy_dir=""
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $w == -- ]]; then
      _gatekeeper_operand "$path"
      return 0
    elif [[ $w == -* ]]; then
      if [[ " $(_gatekeeper_valued "$path") " == *" $w "* ]]; then
        [[ $w == --policy-dir ]] && policy_dir=\${COMP_WORDS[i+1]}
        ((i++))
      fi
    elif [[ " $(_gatekeeper_subcommands "$path") " == *" $w "* ]]; then
      path=\${path:+$path }$w
    fi
  done
  w=\${COMP_WORDS[COMP_CWORD-1]}
  if (( COMP_CWORD > 1 )) && [[ $w == -* ]] && _gatekeeper_value "$path" "$w"; then
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_gatekeeper_options "$path")" -- "$cur"))
  else
    sub=$(_gatekeeper_subcommands "$path")
    if [[ -n $sub ]]; then
      COMPREPLY=($(compgen -W "$sub" -- "$cur"))
    else
      _gatekeeper_operand "$path"
    fi
  fi
  return 0
}
complete -F _gatekeeper gatekeeper
`;
}

# usage: zsh -f drive.zsh FPATH_DIR "typed line"
# Types the line and a TAB into an interactive zsh (compinit, the _gatekeeper
# under test first in fpath), then prints the line as completion left it.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT_EOL_MARK=''; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; unsetopt beep"
zpty -w z 'print R$((6*7))R'
zpty -r z out '*R42R*'
zpty -w -n z "$2"$'\t'$'\C-a''print -r -- S$((6*7))S:'$'\C-e'':E$((6*7))E'$'\n'
zpty -r z out '*S42S:*:E42E*'
print -r -- "${${out##*S42S:}%%:E42E*}"
zpty -d z

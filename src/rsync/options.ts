// What the gate knows about rsync's options, as data.
//
// Each entry: how the option is spelled, what kind of argument it takes, and
// its risk class, which decides whether a policy lets it through. The list is
// what a stock rsync 3.x client sends to a server (options.c server_options())
// plus rrsync's convenience extras; anything not here is refused as unknown.
// Disabling an option is a one-word change of its risk.

export type ArgKind =
  | 'none'
  /** An integer; -@ and --max-delete also take negatives. */
  | 'number'
  /** A value rsync interprets itself (sizes, names, choices); not a path. */
  | 'value'
  /** A server-side path: mapped into the policy root and checked. */
  | 'path'
  /** --files-from: "-" (the list comes over the protocol) or a server path. */
  | 'files-from';

export type Risk =
  /** Allowed by default. */
  | 'normal'
  /** Deletes on the server's side: needs `delete: true`. */
  | 'delete'
  /** Can replace or move other existing files: refused when `overwrite: false`. */
  | 'overwrite'
  /** Follows symlinks: refused when root is not "/" (rrsync's -L, -k, -K rule). */
  | 'follow-links'
  /** Legitimate but rarely needed: refused unless the policy lists it in options.allow. */
  | 'unusual'
  /** Never allowed, whatever the policy says. */
  | 'refused';

export interface RsyncOption {
  /** Canonical name: "--long" or "-x". */
  name: string;
  long?: string;
  short?: string;
  arg: ArgKind;
  risk: Risk;
  /** Why the risk is what it is (shown in refusals and `policy` output). */
  why: string;
  /**
   * The one side of the transfer the risk lives on, when it lives on one only:
   * 'receiver' for the deletions the receiver's generator makes. Absent: either side.
   */
  riskOn?: 'receiver';
}

const o = (name: string, arg: ArgKind, risk: Risk, why: string, short?: string): RsyncOption => {
  const opt: RsyncOption = { name, arg, risk, why };
  if (name.startsWith('--')) opt.long = name.slice(2);
  else opt.short = name.slice(1);
  if (short) opt.short = short;
  return opt;
};

const n = 'sent by stock clients';
/** Options that change only what the client is told; a server ignores them or only writes them to its own log. */
const display = 'changes only what the client displays';

// Deletions on a pull. rsync's receiver deletes: delete_in_dir() and
// do_delete_pass() are called only from generate_files() (rsync 3.1.3
// generator.c:1486, 2213, 2258), which runs only in do_recv() (main.c:969);
// a server started with --sender runs do_server_sender() (main.c:783), which
// calls send_files() (main.c:833) and never generate_files(). So with
// --sender the client deletes in its own destination and the server only
// sends: openrsync sends --delete-before on every deleting pull, rsync 3.x
// sends --delete-* too when the client deletes. On a push the server is the
// receiver and `delete:` decides.
const receiverDeletes = (name: string): RsyncOption => ({ ...o(name, 'none', 'delete', 'deletes files on the receiving server'), riskOn: 'receiver' });

/**
 * Short options a server may receive, alone or clustered (-vlogDtprxz).
 * The capability string after "e" (-e.iLsfxCIvu) is not an option and is
 * handled by the grammar; "-e" with anything else is the client's remote
 * shell and is refused.
 */
export const SHORT_OPTIONS: readonly RsyncOption[] = [
  o('-A', 'none', 'normal', 'preserve ACLs'),
  o('-C', 'none', 'normal', 'CVS exclusions'),
  o('-D', 'none', 'normal', 'preserve devices and specials (a receiver under a non-/ root gets --drop-D)'),
  o('-E', 'none', 'normal', 'preserve executability'),
  o('-H', 'none', 'normal', 'preserve hard links'),
  o('-I', 'none', 'normal', 'ignore times'),
  o('-J', 'none', 'normal', 'omit symlink times'),
  o('-K', 'none', 'follow-links', 'keep-dirlinks follows symlinked directories on the receiver'),
  o('-L', 'none', 'follow-links', 'copy-links follows every symlink, also ones pointing out of root'),
  o('-N', 'none', 'normal', 'preserve create times'),
  o('-O', 'none', 'normal', 'omit directory times'),
  o('-R', 'none', 'normal', 'relative path names'),
  o('-S', 'none', 'normal', 'sparse files'),
  o('-U', 'none', 'normal', 'preserve access times'),
  o('-W', 'none', 'normal', 'whole files'),
  o('-X', 'none', 'normal', 'preserve extended attributes'),
  o('-b', 'none', 'overwrite', 'backups move existing files aside and can replace other names'),
  o('-c', 'none', 'normal', 'checksum'),
  o('-d', 'none', 'normal', 'transfer directories without recursing'),
  o('-g', 'none', 'normal', 'preserve group'),
  // rsync's server ignores -h (human-readable numbers); openrsync sends it as a word of its own.
  o('-h', 'none', 'normal', display),
  o('-k', 'none', 'follow-links', 'copy-dirlinks follows symlinks to directories'),
  o('-l', 'none', 'normal', 'copy symlinks as symlinks'),
  o('-m', 'none', 'normal', 'prune empty directories'),
  o('-n', 'none', 'normal', 'dry run'),
  o('-o', 'none', 'normal', 'preserve owner'),
  o('-p', 'none', 'normal', 'preserve permissions'),
  o('-q', 'none', 'normal', 'quiet'),
  o('-r', 'none', 'normal', 'recursive'),
  o('-s', 'none', 'refused', 'protect-args sends the real arguments over the protocol (stdin), where no gate can check them; use a daemon policy instead'),
  o('-t', 'none', 'normal', 'preserve modification times'),
  o('-u', 'none', 'normal', 'skip files newer on the receiver'),
  o('-v', 'none', 'normal', 'verbose'),
  o('-x', 'none', 'normal', 'one file system'),
  o('-y', 'none', 'normal', 'fuzzy basis'),
  o('-z', 'none', 'normal', 'compress'),
  o('-B', 'number', 'normal', 'block size (-B<n>)'),
  o('-@', 'number', 'normal', 'modify window (-@<n>)'),
];

/** Long options a server may receive: `--name`, `--name=value` or `--name value`. */
export const LONG_OPTIONS: readonly RsyncOption[] = [
  o('--append', 'none', 'normal', n),
  o('--backup-dir', 'path', 'overwrite', 'backups are published onto names that may already exist'),
  o('--block-size', 'number', 'normal', n),
  o('--bwlimit', 'value', 'normal', n),
  o('--checksum-choice', 'value', 'normal', n),
  o('--checksum-seed', 'number', 'normal', n),
  o('--compare-dest', 'path', 'normal', 'basis directory, checked inside root'),
  o('--compress-choice', 'value', 'normal', n),
  o('--compress-level', 'number', 'normal', n),
  o('--compress-threads', 'number', 'normal', n),
  o('--copy-dest', 'path', 'normal', 'basis directory, checked inside root'),
  o('--copy-devices', 'none', 'refused', 'copies the contents of device files (e.g. a raw disk) as if they were files'),
  o('--copy-unsafe-links', 'none', 'follow-links', 'follows symlinks that point outside the transfer'),
  o('--daemon', 'none', 'refused', 'daemon mode runs only under a policy with a `daemon:` block, with the policy\'s rsyncd.conf'),
  o('--debug', 'value', 'refused', 'debug output can reveal server internals and floods the log'),
  o('--delay-updates', 'none', 'overwrite', 'renames finished files into place at the end, over other names'),
  receiverDeletes('--delete'),
  receiverDeletes('--delete-after'),
  receiverDeletes('--delete-before'),
  receiverDeletes('--delete-delay'),
  receiverDeletes('--delete-during'),
  receiverDeletes('--delete-excluded'),
  receiverDeletes('--delete-missing-args'),
  o('--dirs', 'none', 'normal', n, 'd'),
  o('--existing', 'none', 'normal', n),
  o('--fake-super', 'none', 'normal', n),
  o('--files-from', 'files-from', 'normal', 'the list comes over the protocol ("-") or from a server file inside root'),
  o('--force', 'none', 'normal', n),
  o('--from0', 'none', 'normal', n),
  o('--fsync', 'none', 'normal', n),
  o('--fuzzy', 'none', 'normal', n, 'y'),
  o('--group', 'none', 'normal', n, 'g'),
  o('--groupmap', 'value', 'normal', n),
  o('--hard-links', 'none', 'normal', n, 'H'),
  o('--iconv', 'value', 'normal', n),
  o('--ignore-errors', 'none', 'normal', n),
  o('--ignore-existing', 'none', 'normal', n),
  o('--ignore-missing-args', 'none', 'normal', n),
  o('--ignore-times', 'none', 'normal', n, 'I'),
  o('--info', 'value', 'normal', n),
  o('--inplace', 'none', 'normal', n),
  o('--link-dest', 'path', 'normal', 'basis directory, checked inside root'),
  o('--links', 'none', 'normal', n, 'l'),
  o('--list-only', 'none', 'normal', n),
  o('--log-file', 'path', 'refused', 'a client must not choose where the server writes (the policy\'s transferLog sets rsync\'s log)'),
  o('--log-file-format', 'value', 'refused', 'only meaningful with --log-file, which is refused'),
  o('--log-format', 'value', 'normal', n),
  o('--max-alloc', 'value', 'normal', n),
  o('--max-delete', 'number', 'normal', n),
  o('--max-size', 'value', 'normal', n),
  o('--min-size', 'value', 'normal', n),
  o('--mkpath', 'none', 'normal', n),
  o('--modify-window', 'number', 'normal', n),
  o('--msgs2stderr', 'none', 'normal', n),
  o('--munge-links', 'none', 'normal', n),
  o('--new-compress', 'none', 'normal', n),
  o('--no-W', 'none', 'normal', n),
  o('--no-implied-dirs', 'none', 'normal', n),
  o('--no-msgs2stderr', 'none', 'normal', n),
  o('--no-munge-links', 'none', 'refused', 'would undo the server\'s forced --munge-links'),
  o('--no-r', 'none', 'normal', n),
  o('--no-relative', 'none', 'normal', n),
  o('--no-specials', 'none', 'normal', n),
  o('--numeric-ids', 'none', 'normal', n),
  o('--old-compress', 'none', 'normal', n),
  o('--one-file-system', 'none', 'normal', n, 'x'),
  o('--only-write-batch', 'path', 'unusual', 'writes a batch file on the server'),
  o('--open-noatime', 'none', 'normal', n),
  o('--owner', 'none', 'normal', n, 'o'),
  o('--partial', 'none', 'normal', n),
  o('--partial-dir', 'path', 'overwrite', 'partial files are moved into place over existing names'),
  o('--perms', 'none', 'normal', n, 'p'),
  o('--preallocate', 'none', 'normal', n),
  // openrsync sends --progress to the server; rsync's server ignores it (options.c: "if (do_progress && !am_server)").
  o('--progress', 'none', 'normal', display),
  o('--protect-args', 'none', 'refused', 'protect-args sends the real arguments over the protocol (stdin), where no gate can check them; use a daemon policy instead'),
  o('--recursive', 'none', 'normal', n, 'r'),
  // openrsync spells -R as --relative.
  o('--relative', 'none', 'normal', n, 'R'),
  o('--remove-sent-files', 'none', 'delete', 'deletes the sent files on the sending server'),
  o('--remove-source-files', 'none', 'delete', 'deletes the sent files on the sending server'),
  o('--safe-links', 'none', 'normal', n),
  o('--secluded-args', 'none', 'refused', 'secluded-args sends the real arguments over the protocol (stdin), where no gate can check them; use a daemon policy instead'),
  o('--size-only', 'none', 'normal', n),
  o('--skip-compress', 'value', 'normal', n),
  o('--specials', 'none', 'normal', n),
  o('--stats', 'none', 'normal', n),
  o('--stderr', 'value', 'normal', n),
  o('--suffix', 'value', 'normal', n),
  o('--super', 'none', 'normal', n),
  o('--temp-dir', 'path', 'normal', 'temporary directory, checked inside root'),
  o('--timeout', 'number', 'normal', n),
  o('--times', 'none', 'normal', n, 't'),
  o('--use-qsort', 'none', 'normal', n),
  o('--usermap', 'value', 'normal', n),
  o('--write-devices', 'none', 'refused', 'writes file data into existing device files (e.g. over a disk)'),
  // Never sent by a client; listed so the refusal names the reason.
  o('--config', 'path', 'refused', 'a client must not choose the daemon configuration (a daemon policy sets it)'),
  o('--dparam', 'value', 'refused', 'daemon parameters override the daemon configuration'),
  o('--remote-option', 'value', 'refused', 'a client-side option; arriving at the server it hides another option', 'M'),
  o('--rsh', 'value', 'refused', 'the remote shell is a client-side choice; at the server it would run a program', 'e'),
  o('--rsync-path', 'value', 'refused', 'a client-side option naming the remote program; the policy decides which rsync runs'),
  o('--confine-root', 'path', 'refused', 'the gate sets --confine-root itself from the policy root'),
  o('--drop-D', 'none', 'refused', 'the gate sets --drop-D itself'),
  o('--copy-links', 'none', 'follow-links', 'follows every symlink, also ones pointing out of root', 'L'),
  o('--keep-dirlinks', 'none', 'follow-links', 'follows symlinked directories on the receiver', 'K'),
  o('--copy-dirlinks', 'none', 'follow-links', 'follows symlinks to directories', 'k'),
  o('--backup', 'none', 'overwrite', 'backups move existing files aside and can replace other names', 'b'),
  o('--sender', 'none', 'refused', '--sender is only valid as the word right after --server'),
  o('--server', 'none', 'refused', '--server is only valid as the second word'),
];

/** True when the option's risk applies to this server: a receiver-only risk does not apply to a sending server. */
export const riskApplies = (opt: RsyncOption, serverSends: boolean): boolean => !(opt.riskOn === 'receiver' && serverSends);

const byShort = new Map<string, RsyncOption>();
const byLong = new Map<string, RsyncOption>();
for (const opt of SHORT_OPTIONS) byShort.set(opt.short!, opt);
for (const opt of LONG_OPTIONS) byLong.set(opt.long!, opt);

/** The option a short letter stands for inside a cluster, if a server may receive it. */
export const shortOption = (letter: string): RsyncOption | undefined => byShort.get(letter);
/** The long option by its exact name (rsync accepts no abbreviations from a client). */
export const longOption = (name: string): RsyncOption | undefined => byLong.get(name);

/** Every option name a policy's options.allow/deny may use. */
export function knownOption(name: string): RsyncOption | undefined {
  if (name.startsWith('--')) return byLong.get(name.slice(2));
  if (/^-.$/.test(name)) return byShort.get(name.slice(1)) ?? LONG_OPTIONS.find((x) => x.short === name.slice(1));
  return undefined;
}

const namesCache = new Map<RsyncOption, readonly string[]>();

/** The names an option may be known by in a policy (long and short spelling). */
export function namesOf(opt: RsyncOption): readonly string[] {
  let names = namesCache.get(opt);
  if (!names) namesCache.set(opt, (names = computeNames(opt)));
  return names;
}

function computeNames(opt: RsyncOption): string[] {
  const names = [opt.name];
  if (opt.long && opt.name !== `--${opt.long}`) names.push(`--${opt.long}`);
  if (opt.short && opt.name !== `-${opt.short}`) names.push(`-${opt.short}`);
  // A short letter and its long twin are one option for allow/deny purposes.
  if (opt.short) {
    const twin = LONG_OPTIONS.find((x) => x.short === opt.short && x !== opt);
    if (twin) names.push(twin.name);
  }
  if (opt.long) {
    const twin = opt.short ? byShort.get(opt.short) : undefined;
    if (twin && twin !== opt) names.push(twin.name);
  }
  return [...new Set(names)];
}

/** Options that no policy can allow. */
export const ALWAYS_REFUSED: readonly string[] = [...SHORT_OPTIONS, ...LONG_OPTIONS]
  .filter((x) => x.risk === 'refused')
  .map((x) => x.name);

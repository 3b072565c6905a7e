// The decision: a pure function of (session, parsed command, policy, facts).
// Facts are the few filesystem answers it needs (realpath, directory listings
// for globs, what the rsync build supports), passed in so that the decision
// can be tested without touching the machine and so the runner owns all I/O.
import type { Session } from './session.js';
import type { Policy } from './policy/schema.js';
import type { ParsedCommand, ParsedOption } from './rsync/grammar.js';
import { knownOption, namesOf, riskApplies, type Risk, type RsyncOption } from './rsync/options.js';
import { addressInList } from './net.js';
import { windowRefusal } from './window.js';
import { rootTarget, type IdLookup } from './rsync/idmap.js';

export interface FsView {
  /** Canonical path of an existing file, or null when it does not exist. */
  realpath(path: string): string | null;
  /** Names in a directory (without . and ..), or null when it is not a readable directory. */
  readdir(path: string): string[] | null;
  /** Whether path (symlinks followed) is a directory now. */
  isDirectory(path: string): boolean;
}

export interface Facts {
  fs: FsView;
  /** The policy's rsync understands --confine-root and --drop-D (rsync >= 3.5). */
  confineRootSupported: boolean;
  /**
   * The time to decide for, in ms since the epoch: the real clock in the
   * gate, the admin's TIME in `check --at`. Only a policy with a `window`
   * reads it; without it such a policy refuses (fail closed).
   */
  now?: number;
  /**
   * This server's account and group ids by name, for --usermap/--groupmap
   * targets. Without it a named target cannot be checked and is refused.
   */
  accounts?: { user: IdLookup; group: IdLookup };
  /**
   * A daemon policy's module names (its rsyncd.conf's sections), asked only
   * to tell a client that wanted a path which modules to use; null or absent
   * when they cannot be read (the refusal then names none).
   */
  daemonModules?: () => readonly string[] | null;
}

/** A refusal the policy could lift (access, delete, options ...); permissive mode waives these. */
export interface Refusal {
  code: RefusalCode;
  reason: string;
  /** Option names concerned, for `audit --suggest`. */
  options?: string[];
}

export type RefusalCode =
  | 'access'
  | 'delete-refused'
  | 'overwrite-refused'
  | 'follow-links-refused'
  | 'option-not-allowed'
  | 'option-denied'
  | 'from'
  | 'daemon-only'
  | 'not-daemon-policy'
  | 'path-outside-root'
  | 'glob-too-broad'
  | 'outside-window'
  | 'root-map-refused';

export type Decision =
  | {
      verdict: 'allow';
      /** What runs: [rsync, --server, ...]; empty for the `true` connectivity check. */
      argv: string[];
      /** Directory rsync starts in (the policy root). */
      cwd: string;
      reason: string;
      /** Refusals waived because the policy is permissive (enforce: false). */
      waived: Refusal[];
    }
  | { verdict: 'deny'; code: string; reason: string; options?: string[]; argv: string[] | null };

const MAX_GLOB_MATCHES = 10000;

/**
 * The checks in the order they run. Each step either adds refusals the
 * policy could lift (soft: collected, so that all of them are reported and
 * permissive mode can waive them) or ends the decision with one no policy
 * key lifts (a missing root, a path outside it): returned at once.
 */
export function decide(session: Session, command: ParsedCommand, policy: Policy, facts: Facts): Decision {
  const soft: Refusal[] = [...clientAddressRefusals(session, policy)];
  if (command.kind === 'true') return connectivityCheck(soft, policy);
  const window = windowRefusals(policy, facts);
  if (isDecision(window)) return window;
  soft.push(...window);
  if (command.kind === 'daemon') return daemonCall(soft, policy);
  const openrsyncDaemon = openrsyncDaemonCall(soft, command, policy, facts);
  if (openrsyncDaemon) return openrsyncDaemon;
  soft.push(...daemonOnlyRefusals(policy, facts), ...accessRefusals(command, policy), ...optionRefusals(command, policy), ...rootMapRefusals(command, policy, facts));

  const realRoot = facts.fs.realpath(policy.root);
  if (realRoot === null) return deny('config', `the policy root ${policy.root} does not exist`, null);
  const rebuilt = rebuildLongOptions(command, policy, realRoot, facts);
  if (isDecision(rebuilt)) return rebuilt;
  const paths = mapPaths(command, policy, realRoot, facts);
  if (isDecision(paths)) return paths;
  const start = pinWorkingDirectory(command, policy, realRoot, facts, paths, rebuilt);
  if (isDecision(start)) return start;
  const argv = [
    policy.rsync,
    '--server',
    ...(command.sender ? ['--sender'] : []),
    ...command.clusters,
    ...rebuilt.values(),
    ...forcedOptions(command, policy, realRoot, facts),
    // rsync keeps parsing options after positional arguments: "--" makes
    // sure nothing after it can be read as one.
    '--',
    '.',
    ...start.paths,
  ];
  return finish(soft, policy, argv, start.cwd, command.sender ? 'pull (the server sends)' : 'push (the server receives)');
}

type RsyncCommand = Extract<ParsedCommand, { kind: 'server' }>;

const isDecision = (x: object): x is Decision => 'verdict' in x;

/** The client's address must be in the policy's `from` list, when it has one. */
function clientAddressRefusals(session: Session, policy: Policy): Refusal[] {
  if (!policy.from) return [];
  const addr = session.client?.addr;
  if (addr && addressInList(addr, policy.from)) return [];
  return [{ code: 'from', reason: `client address ${addr ?? '(unknown: no SSH_CONNECTION)'} is not in the policy's "from" list` }];
}

/** `true`, the connectivity check: nothing runs, unless the policy disabled it. */
function connectivityCheck(soft: Refusal[], policy: Policy): Decision {
  if (!policy.allowTrue) return deny('not-rsync', 'the connectivity check "true" is disabled by this policy (allowTrue: false)', null);
  return finish(soft, policy, [], '/', 'connectivity check "true": nothing runs');
}

/** Backup windows: every session but the `true` check, daemon ones included; without a time, fail closed. */
function windowRefusals(policy: Policy, facts: Facts): Refusal[] | Decision {
  if (!policy.window) return [];
  if (facts.now === undefined) return deny('config', 'the policy has a window, but no time was given to decide with', null);
  const outside = windowRefusal(policy.window, policy.timezone, facts.now);
  return outside ? [{ code: 'outside-window', reason: outside }] : [];
}

/** rsync HOST::MODULE over ssh: only for a daemon policy, with its rsyncd.conf. */
function daemonCall(soft: Refusal[], policy: Policy): Decision {
  if (!policy.daemon) {
    return deny('always-refused', `option --daemon is refused: ${PATHS_NOT_MODULES} (this policy is not a daemon policy; a \`daemon: { config: /etc/rsyncd.conf }\` block serves rsync modules over ssh)`, null, ['--daemon']);
  }
  const argv = [policy.rsync, '--server', '--daemon', `--config=${policy.daemon.config}`, '.'];
  return finish(soft, policy, argv, '/', 'daemon over ssh with the policy\'s rsyncd.conf');
}

/**
 * openrsync's HOST::MODULE over ssh sends a plain server line (". module/")
 * and then speaks the daemon protocol: under a daemon policy its shape
 * (separate option words, relative paths only) starts the daemon, which
 * applies the module's rules itself. The same request of a path policy, a
 * module name that is no path under root, would end in rsync's raw
 * "protocol version mismatch": refused with what to type instead.
 * docs/gate.md says why the shape, not the first bytes, and what stays ambiguous.
 */
function openrsyncDaemonCall(soft: Refusal[], command: RsyncCommand, policy: Policy, facts: Facts): Decision | null {
  if (!looksLikeOpenrsyncDaemon(command)) return null;
  if (policy.daemon) {
    const argv = [policy.rsync, '--server', '--daemon', `--config=${policy.daemon.config}`, '.'];
    return finish(soft, policy, argv, '/', 'daemon over ssh (openrsync HOST::MODULE) with the policy\'s rsyncd.conf');
  }
  if (!command.paths.some((p) => facts.fs.realpath(`${policy.root}/${p.split('/')[0]}`) !== null)) {
    return deny('not-daemon-policy', `${PATHS_NOT_MODULES} (no "${command.paths[0]!.split('/')[0]}" under the policy root; openrsync's HOST::MODULE needs a daemon policy)`, null);
  }
  return null;
}

/** A daemon policy serves modules only. */
function daemonOnlyRefusals(policy: Policy, facts: Facts): Refusal[] {
  if (!policy.daemon) return [];
  // Names the key holder could learn from `describe`; not where the policy turned that off.
  const modules = policy.describe ? (facts.daemonModules?.() ?? []) : [];
  const shown = modules.length > MAX_MODULES_NAMED ? [...modules.slice(0, MAX_MODULES_NAMED), '...'] : modules;
  const which = modules.length ? `, with MODULE one of: ${shown.join(', ')}` : '';
  return [{ code: 'daemon-only', reason: `this is a daemon policy: this server serves rsync modules, not paths: use HOST::MODULE${which} (rsync HOST::MODULE/PATH DEST); only "rsync --server --daemon ." is allowed` }];
}

/** A refusal line names at most this many modules. */
const MAX_MODULES_NAMED = 20;

/** Access direction: with --sender the server sends (the client pulls). */
function accessRefusals(command: RsyncCommand, policy: Policy): Refusal[] {
  if (policy.access === 'read-only' && !command.sender) {
    return [{ code: 'access', reason: 'this policy is read-only: the client may pull (rsync HOST:PATH DEST), not push files to the server' }];
  }
  if (policy.access === 'write-only' && command.sender) {
    return [{ code: 'access', reason: 'this policy is write-only: the client may push to the server, not pull from it' }];
  }
  return [];
}

/** Each option against its risk class and the policy's options.allow / options.deny. */
function optionRefusals(command: RsyncCommand, policy: Policy): Refusal[] {
  const subRoot = policy.root !== '/';
  // The policy names options by any of their spellings (validatePolicy
  // refused unknown names); namesOf(spec) holds every spelling of what the
  // client sent, a short letter's long twin included.
  const allowed = new Set(policy.options.allow.map((x) => knownOption(x)!.name));
  const denied = new Set(policy.options.deny.map((x) => knownOption(x)!.name));
  const isListed = (set: Set<string>, spec: RsyncOption) => namesOf(spec).some((nm) => set.has(nm));
  const out: Refusal[] = [];
  for (const opt of command.options) {
    if (!riskApplies(opt.spec, command.sender) && !isListed(denied, opt.spec)) continue;
    const r = optionRefusal(opt.spec, policy, subRoot, isListed(allowed, opt.spec), isListed(denied, opt.spec));
    if (r) out.push(r);
  }
  return out;
}

/**
 * A receiving rsync runs as root and gives files the owner the client
 * names: a map onto uid/gid 0 makes anything root's (`setuid: keep` lifts it).
 */
function rootMapRefusals(command: RsyncCommand, policy: Policy, facts: Facts): Refusal[] {
  if (command.sender || policy.setuid === 'keep') return [];
  const out: Refusal[] = [];
  for (const opt of command.options) {
    const which = opt.spec.name === '--usermap' ? 'user' : opt.spec.name === '--groupmap' ? 'group' : null;
    if (!which) continue;
    const bad = rootTarget(opt.value!, facts.accounts?.[which]);
    if (bad) out.push({ code: 'root-map-refused', reason: `option ${opt.spec.name} is refused: "${bad.item}" ${bad.why}; files pushed to the server must not become root's (the policy's \`setuid: keep\` allows it, for a full-system restore)`, options: [opt.spec.name] });
  }
  return out;
}

/**
 * Long options as rsync gets them, in the client's order, path values mapped
 * into root; short ones (a value only in -B8192, -@-1) stay in
 * command.clusters as sent.
 */
function rebuildLongOptions(command: RsyncCommand, policy: Policy, realRoot: string, facts: Facts): Map<ParsedOption, string> | Decision {
  const rebuilt = new Map<ParsedOption, string>();
  for (const opt of command.options) {
    if (!opt.words[0]!.startsWith('--')) continue;
    if (opt.value === undefined) rebuilt.set(opt, opt.words[0]!);
    else {
      const v = optionValue(opt, policy, realRoot, facts, command.sender);
      if (typeof v !== 'string') return deny(v.code, v.reason, null, [opt.spec.name]);
      rebuilt.set(opt, `${opt.spec.name}=${v}`);
    }
  }
  return rebuilt;
}

/** The positional paths, each inside root ("." when there is none). */
function mapPaths(command: RsyncCommand, policy: Policy, realRoot: string, facts: Facts): string[] | Decision {
  const paths: string[] = [];
  for (const p of command.paths) {
    const mapped = mapPath(p, policy.root, realRoot, facts, command.sender);
    if (typeof mapped !== 'string') return deny(mapped.code, mapped.reason, null);
    paths.push(mapped);
  }
  if (paths.length === 0) paths.push('.');
  return paths;
}

/**
 * Where rsync starts, and the paths it is handed from there. Also resolves
 * a push's relative option paths from its destination directory, updating
 * `rebuilt` where the pinned directory is known.
 */
function pinWorkingDirectory(command: RsyncCommand, policy: Policy, realRoot: string, facts: Facts, mapped: string[], rebuilt: Map<ParsedOption, string>): { cwd: string; paths: string[] } | Decision {
  const subRoot = policy.root !== '/';
  let paths = mapped;
  // A pull's source paths are opened by rsync after this check, and rsync
  // follows a directory swapped for a symlink meanwhile (--confine-root does
  // not cover a sender's sources). Starting rsync *inside* the directories
  // checked here pins them: the working directory is an inode, not a name,
  // and the runner verifies where it landed before exec.
  let cwd = realRoot;
  const relative = command.options.some((o) => o.spec.name === '-R');
  if (command.sender && subRoot && !relative) {
    const pinned = pinSources(paths, realRoot, facts.fs);
    if (pinned && 'escaped' in pinned) {
      // It resolved inside a moment ago: something is swapping it right now.
      return deny('path-outside-root', `"${pinned.escaped}" now resolves outside the policy root ${realRoot} (it changed during the check: a symlink race?)`, null);
    }
    if (pinned) {
      cwd = pinned.cwd;
      paths = pinned.paths;
    }
  }

  // A push's destination likewise: rsync 3.5 resolves the destination
  // argument when it gets there, and a directory on its way swapped for a
  // symlink meanwhile took a push out of root under load (the push race in
  // test/security). Started inside the checked destination directory, rsync
  // is handed only the name below it.
  if (!command.sender && subRoot && paths.length === 1) {
    const pinned = pinDestination(paths[0]!, realRoot, facts.fs);
    if (pinned && 'escaped' in pinned) {
      return deny('path-outside-root', `"${pinned.escaped}" now resolves outside the policy root ${realRoot} (it changed during the check: a symlink race?)`, null);
    }
    if (pinned) {
      cwd = pinned.cwd;
      paths = [pinned.dest];
    }
    // Relative basis, backup, temp and partial directories are taken from
    // the destination directory, not from root: check them there.
    // Where the pinned directory is known, rsync is handed the directory
    // resolved here, so a component swapped meanwhile is never followed.
    // Not --partial-dir: relative, it names a directory in each file's own.
    const destDir = pinned ? cwd : `${realRoot}/${paths[0]!.replace(/\/+$/, '')}`;
    for (const opt of command.options) {
      if (!DEST_RELATIVE.has(opt.spec.name) || opt.value!.startsWith('/')) continue;
      const r = resolveInside(`${destDir}/${opt.value}`, realRoot, facts.fs);
      if ('code' in r) return deny(r.code, `${opt.spec.name}: "${opt.value}" from the destination directory ${r.reason}`, null, [opt.spec.name]);
      if (pinned && opt.spec.name !== '--partial-dir') rebuilt.set(opt, `${opt.spec.name}=${r.real}`);
    }
  }
  return { cwd, paths };
}

/** Forced options: what the policy imposes whatever the client asked. */
function forcedOptions(command: RsyncCommand, policy: Policy, realRoot: string, facts: Facts): string[] {
  const subRoot = policy.root !== '/';
  const forced: string[] = [];
  if (policy.mungeLinks) forced.push('--munge-links');
  if (!policy.overwrite) forced.push('--ignore-existing');
  if (subRoot && useConfineRoot(policy, facts)) {
    forced.push(`--confine-root=${realRoot}`);
    if (!command.sender) forced.push('--drop-D');
  }
  if (!command.sender && policy.setuid !== 'keep') {
    // The receiver applies --chmod to every mode the client sends (flist.c
    // receive_file_entry) and a client cannot send --chmod itself (it is not
    // in the option table): nothing lands setuid or setgid. File capabilities
    // are setuid by another name: with -X the security.capability attribute
    // is filtered out on receipt.
    forced.push('--chmod=ugo-s');
    if (command.options.some((o) => o.spec.name === '-X')) forced.push('--filter=-x security.capability');
  }
  if (policy.transferLog) forced.push(`--log-file=${policy.transferLog}`);
  return forced;
}

/** Options whose relative paths rsync takes from the destination directory (the receiver's working directory). */
const DEST_RELATIVE = new Set(['--backup-dir', '--compare-dest', '--copy-dest', '--link-dest', '--partial-dir', '--temp-dir']);

function finish(soft: Refusal[], policy: Policy, argv: string[], cwd: string, what: string): Decision {
  if (soft.length > 0 && policy.enforce) {
    const first = soft[0]!;
    const options = [...new Set(soft.flatMap((r) => r.options ?? []))];
    const reason = soft.length === 1 ? first.reason : `${first.reason} (and ${soft.length - 1} more: ${soft.slice(1).map((r) => r.reason).join('; ')})`;
    return deny(first.code, reason, argv.length ? argv : null, options.length ? options : undefined);
  }
  const reason = soft.length > 0 ? `allowed by a permissive policy (enforce: false): ${what}` : `allowed: ${what}`;
  return { verdict: 'allow', argv, cwd, reason, waived: soft };
}

const PATHS_NOT_MODULES = 'this server serves paths, not modules: use HOST:PATH';

/** openrsync's shape (separate option words) with relative paths only: what its HOST::MODULE sends. */
function looksLikeOpenrsyncDaemon(command: { family?: string; paths: readonly string[] }): boolean {
  return command.family === 'openrsync' && command.paths.length > 0 && command.paths.every((p) => !p.startsWith('/'));
}

function deny(code: string, reason: string, argv: string[] | null, options?: string[]): Decision {
  return options ? { verdict: 'deny', code, reason, argv, options } : { verdict: 'deny', code, reason, argv };
}

const riskRefusal: Record<Exclude<Risk, 'normal' | 'refused'>, (p: Policy, subRoot: boolean) => RefusalCode | null> = {
  delete: (p) => (p.delete ? null : 'delete-refused'),
  overwrite: (p) => (p.overwrite ? null : 'overwrite-refused'),
  'follow-links': (_p, subRoot) => (subRoot ? 'follow-links-refused' : null),
  unusual: () => 'option-not-allowed',
};

const riskAdvice: Record<RefusalCode, string> = {
  'delete-refused': 'set `delete: true` in the policy to allow deletions',
  'overwrite-refused': 'the policy has `overwrite: false`',
  'follow-links-refused': 'following symlinks could leave the policy root; list it in options.allow only if every symlink under root is trusted',
  'option-not-allowed': 'list it in the policy\'s options.allow to permit it',
  'option-denied': 'the policy lists it in options.deny',
  access: '',
  from: '',
  'daemon-only': '',
  'not-daemon-policy': '',
  'path-outside-root': '',
  'glob-too-broad': '',
  'outside-window': '',
  'root-map-refused': '',
};

function optionRefusal(spec: RsyncOption, policy: Policy, subRoot: boolean, allowListed: boolean, denyListed: boolean): Refusal | null {
  if (denyListed) return { code: 'option-denied', reason: `option ${spec.name} is refused: ${riskAdvice['option-denied']}`, options: [spec.name] };
  if (spec.risk === 'normal' || spec.risk === 'refused') return null;
  // delete has its own policy key; options.allow widens the other classes.
  if (spec.risk === 'delete') {
    const code = riskRefusal.delete(policy, subRoot);
    return code ? { code, reason: `option ${spec.name} is refused: it ${spec.why}; ${riskAdvice[code]}`, options: [spec.name] } : null;
  }
  const code = riskRefusal[spec.risk](policy, subRoot);
  if (!code || allowListed) return null;
  return { code, reason: `option ${spec.name} is refused: ${spec.why}; ${riskAdvice[code]}`, options: [spec.name] };
}

function useConfineRoot(policy: Policy, facts: Facts): boolean {
  return policy.confineRoot === true || (policy.confineRoot === 'auto' && facts.confineRootSupported);
}

type PathRefusal = { code: string; reason: string };

const hasDotDot = (p: string) => p.split('/').includes('..');

/** Map a path-valued option's value into the root; null-free string or a refusal. */
function optionValue(opt: ParsedOption, policy: Policy, realRoot: string, facts: Facts, sender: boolean): string | PathRefusal {
  const value = opt.value!;
  const kind = opt.spec.arg;
  if (kind !== 'path' && kind !== 'files-from') return value;
  if (kind === 'files-from') {
    if (value === '-') return value;
    if (policy.access === 'write-only') return { code: 'access', reason: 'a write-only policy cannot read a --files-from list from a server path (use a local list: it is sent as --files-from=-)' };
  }
  if (value === '') return { code: 'syntax', reason: `option ${opt.spec.name} needs a path` };
  if (hasDotDot(value)) return { code: 'path-outside-root', reason: `".." is refused in ${opt.spec.name} ("${value}"): name the path from the policy root` };
  if (realRoot === '/') return value.startsWith('/') ? toAbsoluteInRoot(value, policy.root, realRoot) : value;
  // rsync is handed the path as resolved now, not the client's spelling:
  // a component swapped for a symlink after this check is never followed
  // (the option-path race in test/security/symlink-race).
  if (!value.startsWith('/')) {
    // Relative option paths of a receiver are relative to the destination
    // (or each file's directory, for --partial-dir), checked again from
    // there; the others (--files-from) to root, where rsync starts.
    const r = resolveInside(`${realRoot}/${value}`, realRoot, facts.fs);
    if ('code' in r) return r;
    return DEST_RELATIVE.has(opt.spec.name) && !sender ? value : r.real;
  }
  const r = resolveInside(toAbsoluteInRoot(value, policy.root, realRoot), realRoot, facts.fs);
  if ('code' in r) return { code: r.code, reason: `${opt.spec.name}: ${r.reason}` };
  return r.real;
}

/** "/x" means root/x; a path already spelled inside root is accepted as itself. */
function toAbsoluteInRoot(value: string, root: string, realRoot: string): string {
  if (root === '/') return value.replace(/^\/+/, '/');
  for (const r of [root, realRoot]) {
    if (value === r || value.startsWith(`${r}/`)) return realRoot + value.slice(r.length);
  }
  return `${realRoot}/${value.replace(/^\/+/, '')}`;
}

/**
 * Map a positional path to what rsync gets: relative to the root (rsync
 * runs with the root as its working directory), trailing "/" and "/." kept,
 * since they change what rsync transfers.
 */
function mapPath(p: string, root: string, realRoot: string, facts: Facts, sender: boolean): string | PathRefusal {
  if (hasDotDot(p)) return { code: 'path-outside-root', reason: `".." is refused in paths ("${p}"): name the path from the policy root` };
  let rel: string;
  if (p.startsWith('/')) {
    const abs = toAbsoluteInRoot(p, root, realRoot);
    // A trailing "/" survives: toAbsoluteInRoot keeps the end of the path as spelled.
    rel = abs === realRoot ? '' : abs.slice(realRoot === '/' ? 1 : realRoot.length + 1);
  } else {
    rel = p;
  }
  rel = rel.replace(/\/{2,}/g, '/');
  if (realRoot !== '/') {
    if (/[*?[]/.test(rel) && sender) {
      // The sending rsync expands wildcards itself: every match must stay inside.
      const globbed = checkGlob(rel, realRoot, facts.fs);
      if (globbed) return globbed;
    } else {
      const check = checkInside(rel === '' ? realRoot : `${realRoot}/${rel}`, realRoot, facts.fs);
      if (check) return { code: check.code, reason: `"${p}": ${check.reason}` };
    }
  }
  if (rel === '') return p.endsWith('/') ? './' : '.';
  return rel;
}

/** Whether `real` is `realRoot` or below it (a root other than "/": callers skip the check for "/"). */
const inside = (real: string, realRoot: string) => real === realRoot || real.startsWith(`${realRoot}/`);

/**
 * Resolve symlinks and require the result inside root. A path that does not
 * exist yet (a push's destination) is judged by its nearest existing ancestor.
 * Only for a root other than "/" (under "/" every path is inside), like the
 * other path checks below: their callers skip them for "/".
 */
function checkInside(path: string, realRoot: string, fs: FsView): PathRefusal | null {
  const r = resolveInside(path, realRoot, fs);
  return 'code' in r ? r : null;
}

/**
 * Where an absolute path is now: the canonical path of its nearest existing
 * ancestor with the names that do not exist yet appended, or a refusal when
 * that ancestor lies outside root.
 */
function resolveInside(path: string, realRoot: string, fs: FsView): { real: string } | PathRefusal {
  const clean = path.replace(/\/+$/, '').replace(/\/\.$/, '');
  let probe = clean;
  for (;;) {
    const real = fs.realpath(probe);
    if (real !== null) {
      if (!inside(real, realRoot)) return { code: 'path-outside-root', reason: `resolves to ${real}, outside the policy root ${realRoot} (a symlink points out)` };
      // Called for paths below a root other than "/": what exists is at least that root.
      return { real: real + clean.slice(probe.length) };
    }
    const up = probe.slice(0, probe.lastIndexOf('/')) || '/';
    if (up === probe) return { code: 'path-outside-root', reason: 'no part of it exists' };
    probe = up;
  }
}

/**
 * Expand a wildcard path (relative to root) the way the sending rsync will,
 * but more widely (dot files and "." / ".." included), and require every
 * match inside root. Only `rel` is expanded: root's own name is no pattern.
 */
function checkGlob(rel: string, realRoot: string, fs: FsView): PathRefusal | null {
  let current = [realRoot];
  let count = 0;
  for (const part of rel.split('/')) {
    if (part === '') continue; // a trailing "/"
    const next: string[] = [];
    if (!/[*?[]/.test(part)) {
      for (const c of current) next.push(`${c}/${part}`);
    } else {
      const re = globToRegExp(part);
      for (const c of current) {
        const names = fs.readdir(c);
        if (!names) continue;
        for (const name of [...names, '.', '..']) {
          if (!re.test(name)) continue;
          next.push(`${c}/${name}`);
          if (++count > MAX_GLOB_MATCHES) return { code: 'glob-too-broad', reason: `the wildcard in "${realRoot}/${rel}" matches more than ${MAX_GLOB_MATCHES} paths; name them more precisely` };
        }
      }
    }
    current = next;
  }
  for (const m of current) {
    const bad = checkInside(m, realRoot, fs);
    if (bad) return { code: bad.code, reason: `the wildcard matches ${m}, which ${bad.reason}` };
  }
  // No match: rsync reports the pattern as missing; the directory it would be in must still be inside.
  const cut = rel.lastIndexOf('/', rel.search(/[*?[]/));
  return checkInside(cut < 0 ? realRoot : `${realRoot}/${rel.slice(0, cut)}`, realRoot, fs);
}

function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        // Any bracket expression: over-approximate as "any one character".
        re += '.';
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else re += escapeRe(c);
  }
  return new RegExp(`${re}$`, 's');
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The directory to start a sending rsync in, and the source paths relative
 * to it: each source's directory (the source itself when it ends in "/",
 * whose contents are sent; its parent otherwise, whose leaf is sent by name)
 * resolved now, and their deepest common ancestor as the working directory.
 * Only names below that ancestor remain for rsync to resolve. Without -R the
 * directory part of a source is not transmitted, so the transfer is the same.
 * null when a source cannot be pinned (a wildcard in a directory part, a
 * missing directory): rsync then starts in root as before. `escaped` when a
 * directory resolves outside root now although it was inside when checked.
 */
function pinSources(paths: readonly string[], realRoot: string, fs: FsView): { cwd: string; paths: string[] } | { escaped: string } | null {
  const entries: { dir: string; leaf: string | null; dotted: boolean }[] = [];
  for (const p of paths) {
    const dotted = p === '.' || p.endsWith('/.');
    const contents = dotted || p === './' || p.endsWith('/');
    const clean = p.replace(/\/\.$/, '').replace(/\/+$/, '').replace(/^\.$/, '');
    const slash = clean.lastIndexOf('/');
    const dirRel = contents ? clean : slash < 0 ? '' : clean.slice(0, slash);
    const leaf = contents ? null : clean.slice(slash + 1);
    if (/[*?[]/.test(dirRel) || leaf === '') return null;
    const dir = fs.realpath(dirRel ? `${realRoot}/${dirRel}` : realRoot);
    if (dir === null) return null;
    if (!inside(dir, realRoot)) return { escaped: p };
    entries.push({ dir, leaf, dotted });
  }
  let cwd = entries[0]!.dir;
  for (const e of entries) {
    // Every directory lies inside root (not "/": root "/" is never pinned), so this stops at root at the latest.
    while (!(e.dir === cwd || e.dir.startsWith(`${cwd}/`))) cwd = cwd.slice(0, cwd.lastIndexOf('/'));
  }
  const out = entries.map(({ dir, leaf, dotted }) => {
    const rel = dir === cwd ? '' : dir.slice(cwd.length + 1);
    if (leaf === null) return rel ? `${rel}/${dotted ? '.' : ''}` : dotted ? '.' : './';
    const named = rel ? `${rel}/${leaf}` : leaf;
    // A leaf starting with "-" stays a path for rsync (after "--" it is anyway).
    return named.startsWith('-') ? `./${named}` : named;
  });
  return { cwd, paths: out };
}

/**
 * The directory to start a receiving rsync in, and the destination relative
 * to it: the destination itself when it is a directory now (rsync receives
 * into it), otherwise its parent directory, with the last name (and its
 * trailing "/") left for rsync to create or replace. Relative option paths
 * (--backup-dir, --link-dest ...) are relative to the destination directory,
 * which stays the same directory. null when it cannot be pinned (several
 * paths, a wildcard, a missing parent that --mkpath would create): rsync then
 * starts in root as before. `escaped` when the directory resolves outside
 * root now although it was inside when checked.
 */
function pinDestination(dest: string, realRoot: string, fs: FsView): { cwd: string; dest: string } | { escaped: string } | null {
  const dirForm = dest === '.' || dest === './' || dest.endsWith('/') || dest.endsWith('/.');
  const clean = dest.replace(/\/\.$/, '').replace(/\/+$/, '').replace(/^\.$/, '');
  if (/[*?[]/.test(clean)) return null;
  const at = (rel: string) => (rel ? `${realRoot}/${rel}` : realRoot);
  const whole = fs.realpath(at(clean));
  if (whole !== null && fs.isDirectory(whole)) return inside(whole, realRoot) ? { cwd: whole, dest: '.' } : { escaped: dest };
  const slash = clean.lastIndexOf('/');
  const leaf = clean.slice(slash + 1);
  if (leaf === '') return null;
  const parent = fs.realpath(at(slash < 0 ? '' : clean.slice(0, slash)));
  if (parent === null || !fs.isDirectory(parent)) return null;
  if (!inside(parent, realRoot)) return { escaped: dest };
  const named = `${leaf}${dirForm ? '/' : ''}`;
  // A name starting with "-" stays a path for rsync (after "--" it is anyway).
  return { cwd: parent, dest: named.startsWith('-') ? `./${named}` : named };
}

/** The answer to a question about one path (rsync-time-backup's `test -e`, `df -T`): allowed with the path's canonical location, or refused. */
export type PathQuestionDecision =
  | {
      verdict: 'allow';
      /** Canonical location of the path now (inside root), whether or not it exists. */
      real: string;
      /** Whether the path exists (symlinks followed, as `test -e` does). */
      exists: boolean;
      reason: string;
      waived: Refusal[];
    }
  | { verdict: 'deny'; code: string; reason: string };

/**
 * A question about a path, decided as a pull of that path would be: the
 * client's address, the window, a policy that may send (not push-only, not a
 * daemon policy), and the path confined to root exactly as rsync's source
 * paths are ("/x" means root/x, no "..", symlinks resolved and required
 * inside). `what` names the question for the reason ("test -e").
 */
export function decidePathQuestion(session: Session, path: string, what: string, policy: Policy, facts: Facts): PathQuestionDecision {
  const soft: Refusal[] = [...clientAddressRefusals(session, policy)];
  const window = windowRefusals(policy, facts);
  if (isDecision(window)) return { verdict: 'deny', code: window.verdict === 'deny' ? window.code : 'config', reason: window.reason };
  soft.push(...window);
  if (policy.daemon) return { verdict: 'deny', code: 'daemon-only', reason: `"${what}" is answered for a path policy only: this is a daemon policy (rsync HOST::MODULE)` };
  if (policy.access === 'write-only') return { verdict: 'deny', code: 'access', reason: `"${what}" is answered for a policy the client may pull from: this policy is write-only` };
  if (path === '') {
    // What `test -e ''` and `df -T ''` answer: no such file (rsync_tmbackup.sh sends df -T '' for a source "/").
    const d = finish(soft, policy, [], '/', `${what} answered by the gate (nothing runs)`);
    return d.verdict === 'deny' ? { verdict: 'deny', code: d.code, reason: d.reason } : { verdict: 'allow', real: '', exists: false, reason: d.reason, waived: d.waived };
  }
  if (hasDotDot(path)) return { verdict: 'deny', code: 'path-outside-root', reason: `".." is refused in paths ("${path}"): name the path from the policy root` };
  const realRoot = facts.fs.realpath(policy.root);
  if (realRoot === null) return { verdict: 'deny', code: 'config', reason: `the policy root ${policy.root} does not exist` };
  // A relative path is relative to root, where rsync starts.
  const abs = (path.startsWith('/') ? toAbsoluteInRoot(path, policy.root, realRoot) : `${realRoot === '/' ? '' : realRoot}/${path}`).replace(/\/{2,}/g, '/');
  let real: string;
  if (realRoot === '/') {
    real = facts.fs.realpath(abs) ?? abs;
  } else {
    const r = resolveInside(abs, realRoot, facts.fs);
    if ('code' in r) return { verdict: 'deny', code: r.code, reason: `"${path}": ${r.reason}` };
    real = r.real;
  }
  const exists = facts.fs.realpath(abs) !== null;
  const d = finish(soft, policy, [], realRoot, `${what} answered by the gate (nothing runs)`);
  if (d.verdict === 'deny') return { verdict: 'deny', code: d.code, reason: d.reason };
  return { verdict: 'allow', real, exists, reason: d.reason, waived: d.waived };
}

// The doctor's checks: each looks at one thing that cost the original
// setup's author days, and says ok / warn / fail with the fix. They read the
// machine (files, sshd -T, the shell, rsync --version) and change nothing.
import { accessSync, closeSync, constants, existsSync, lstatSync, openSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { spawn } from 'node:child_process';
import { CACHE_DIR } from '../paths.js';
import { basename, dirname } from 'node:path';
import { loadPolicy } from '../policy/load.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { trustProblem } from '../policy/trust.js';
import { describeKey, getOption, hasOption, isDsaType, parseAuthorizedKeys, type KeyLine } from '../sshd/authorized-keys.js';
import { isExpired, isoTime, lineExpiry } from '../sshd/expiry.js';
import { canonicalPermitRootLogin, type SettingSource } from '../sshd/config.js';
import type { PasswdEntry } from '../sshd/passwd.js';
import { effectiveValue, run, type Effective } from '../sshd/run.js';

/** info: a rule doctor cannot check here (it says what holds), never a failure. */
export type Status = 'ok' | 'info' | 'warn' | 'fail';
export interface Check {
  status: Status;
  check: string;
  detail: string;
  fix?: string;
}

const ok = (check: string, detail: string): Check => ({ status: 'ok', check, detail });
const warn = (check: string, detail: string, fix: string): Check => ({ status: 'warn', check, detail, fix });
const fail = (check: string, detail: string, fix: string): Check => ({ status: 'fail', check, detail, fix });

export function formatCheck(c: Check): string {
  return `${c.status.padEnd(4)}  ${c.check}: ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ''}`;
}

// ---------------------------------------------------------------- sshd -T

/**
 * `prlSource`: the file and line sshd takes the global PermitRootLogin from
 * (firstGlobalSetting), named when it is what sshd -T reports, e.g. a drop-in
 * that sorts before gatekeeper's.
 */
export function sshdChecks(eff: Effective, user: PasswdEntry, akPath: string, akFiles: string[], hasGateLines: boolean, prlSource: SettingSource | null = null): Check[] {
  const out: Check[] = [];
  if (user.uid === 0) {
    const prl = canonicalPermitRootLogin(effectiveValue(eff, 'permitrootlogin') ?? 'prohibit-password');
    const src = prlSource && canonicalPermitRootLogin(prlSource.value) === prl ? prlSource : null;
    const from = src ? ` (sshd reads it first from ${src.file}:${src.lineNo})` : '';
    const fix = src ? `change ${src.file}:${src.lineNo} to PermitRootLogin forced-commands-only or remove it (the first value sshd reads wins)` : null;
    if (prl === 'forced-commands-only') out.push(ok('PermitRootLogin', 'forced-commands-only: root logs in only with keys that carry command='));
    else if (prl === 'no') out.push(fail('PermitRootLogin', `no${from}: root cannot log in at all, so the gate never runs`, fix ?? 'gatekeeper install (sets forced-commands-only)'));
    else out.push(warn('PermitRootLogin', `${prl}${from}: keys without command= give a root shell`, fix ?? 'set PermitRootLogin forced-commands-only (gatekeeper install does)'));
  }
  const strict = effectiveValue(eff, 'strictmodes');
  out.push(strict === 'yes' ? ok('StrictModes', 'yes') : warn('StrictModes', `${strict}: sshd accepts authorized_keys others can write`, 'StrictModes yes'));
  out.push(
    akFiles.includes(akPath)
      ? ok('AuthorizedKeysFile', `sshd reads ${akPath} for ${user.name}`)
      : fail('AuthorizedKeysFile', `sshd reads ${akFiles.join(' ') || 'nothing'} for ${user.name}, not ${akPath}`, `put the gate's line in one of those files, or pass --authorized-keys`),
  );
  const force = effectiveValue(eff, 'forcecommand');
  out.push(
    !force || force === 'none'
      ? ok('ForceCommand', 'none (the key\'s command= decides)')
      : fail('ForceCommand', `${force}: overrides every key's command=, the gate never runs`, 'remove ForceCommand for this user (or its Match block)'),
  );
  out.push(acceptEnvCheck(eff.get('acceptenv') ?? []));
  out.push(permitUserEnvironmentCheck(effectiveValue(eff, 'permituserenvironment') ?? null, user));
  const expose = effectiveValue(eff, 'exposeauthinfo');
  out.push(expose === 'yes' ? ok('ExposeAuthInfo', 'yes: the log names the key used') : warn('ExposeAuthInfo', `${expose ?? 'no'}: the gate's log cannot name the key that logged in`, 'ExposeAuthInfo yes'));
  if (!hasGateLines) out.push(warn('gate lines', `no key in ${akPath} runs the gate`, 'gatekeeper install --policy NAME --key FILE'));
  return out;
}

/**
 * Variables that make a root forced command run code the client chose when
 * they reach it: the dynamic loader's, the shell's that sshd runs the command
 * with (bash reads BASH_ENV for `-c`), glibc's, and Node's and OpenSSL's,
 * read before any of the gate's code runs (OPENSSL_CONF names a providers
 * section whose shared object Node loads as root at start-up). Examples only:
 * AcceptEnv is judged against an allowlist, not against this list; it names
 * what a too-wide pattern lets through.
 */
export const CLIENT_ENV_RUNS_CODE = [
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'LD_DEBUG_OUTPUT', 'GLIBC_TUNABLES',
  'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4',
  'NODE_OPTIONS', 'NODE_PATH', 'NODE_V8_COVERAGE', 'NODE_EXTRA_CA_CERTS', 'OPENSSL_CONF', 'OPENSSL_MODULES', 'SSL_CERT_FILE',
] as const;

/** sshd's wildcard patterns (match.c): "*" any run, "?" one character, the rest literal. */
function sshPatternMatches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(name);
}

/**
 * The AcceptEnv allowlist: a pattern passes when every name it can match is
 * LANG or an LC_ locale variable (a literal "LC_" prefix; "LANG" itself).
 * TZ alone is a warning: it moves a policy's window when the policy names no
 * timezone. Anything else fails, whatever it is called: the next variable
 * that runs code is one nobody has listed yet.
 */
function acceptEnvPatternKind(pattern: string): 'locale' | 'tz' | 'other' {
  if (pattern === 'LANG' || pattern.startsWith('LC_')) return 'locale';
  if (pattern === 'TZ') return 'tz';
  return 'other';
}

/** What AcceptEnv lets a client put in the forced command's environment. */
export function acceptEnvCheck(patterns: readonly string[]): Check {
  const other = patterns.filter((p) => acceptEnvPatternKind(p) === 'other');
  if (other.length > 0) {
    const examples = CLIENT_ENV_RUNS_CODE.filter((n) => other.some((p) => sshPatternMatches(p, n)));
    const eg = examples.length ? `, among them ${examples.join(', ')}, which run code the client chose, as root, before the gate decides anything` : ': only LANG and LC_* are known to be harmless, and a variable read before the gate runs cannot be refused by it';
    return fail('AcceptEnv', `a client may set variables beyond LANG and LC_* (AcceptEnv ${other.join(' ')})${eg}`, 'accept only LANG LC_* (remove the rest from AcceptEnv)');
  }
  if (patterns.includes('TZ')) {
    return warn('AcceptEnv', 'a client may set TZ (AcceptEnv TZ): a policy\'s window without `timezone` is then read in the client\'s zone', 'name `timezone` in every policy with a window, or drop TZ from AcceptEnv');
  }
  return ok('AcceptEnv', patterns.length ? `a client may set only ${patterns.join(' ')}` : 'a client may set no environment variable');
}

/**
 * PermitUserEnvironment: when not "no", sshd reads ~/.ssh/environment and
 * the environment= options of authorized_keys into the forced command's
 * environment. Either can carry OPENSSL_CONF or NODE_OPTIONS; a push key
 * whose policy root holds the home directory can write ~/.ssh/environment.
 */
export function permitUserEnvironmentCheck(value: string | null, user: PasswdEntry, exists: (p: string) => boolean = existsSync): Check {
  const v = value ?? 'no';
  if (v === 'no') return ok('PermitUserEnvironment', 'no: sshd ignores ~/.ssh/environment and environment= in authorized_keys');
  const file = `${user.home}/.ssh/environment`;
  const there = exists(file) ? ` (${file} exists)` : '';
  return fail(
    'PermitUserEnvironment',
    `${v}: sshd puts ${file}${there} and authorized_keys environment= into the gate's environment, where OPENSSL_CONF or NODE_OPTIONS run code as ${user.name} before the gate decides anything`,
    'PermitUserEnvironment no',
  );
}

// ---------------------------------------------------------------- authorized_keys

export interface GateLine {
  line: KeyLine;
  command: string;
  launcher: string;
  policy: string | null;
  policyDir: string | null;
}

/** A forced command that runs the gate: `/abs/gatekeeper gate --policy NAME [--policy-dir DIR]` (or node + bundle). */
export function parseGateCommand(command: string): Omit<GateLine, 'line'> | null {
  const words = command.trim().split(/\s+/);
  const g = words.indexOf('gate');
  if (g < 1 || !/gatekeeper(\.mjs)?$/.test(words[g - 1] ?? '')) return null;
  const after = (flag: string) => {
    const i = words.indexOf(flag, g);
    return i === -1 ? null : (words[i + 1] ?? null);
  };
  return { command, launcher: words[0] ?? '', policy: after('--policy'), policyDir: after('--policy-dir') };
}

export function gateLines(text: string): GateLine[] {
  const out: GateLine[] = [];
  for (const l of parseAuthorizedKeys(text)) {
    if (l.kind !== 'key') continue;
    const cmd = getOption(l.options, 'command')?.value;
    const g = cmd ? parseGateCommand(cmd) : null;
    if (g) out.push({ line: l, ...g });
  }
  return out;
}

const formatLeft = (s: number): string => (s >= 86400 ? `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h` : s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 60)}m ${s % 60}s`);

const LEGACY = ['no-port-forwarding', 'no-agent-forwarding', 'no-x11-forwarding', 'no-pty', 'no-user-rc'];

/** How far ahead doctor warns of a key's expiry-time. */
export const EXPIRY_WARNING_SECONDS = 7 * 86400;

/**
 * `now` is the current time (ms since the epoch), a fact: a key line whose
 * expiry-time has passed is reported (sshd refuses it), one that expires
 * within EXPIRY_WARNING_SECONDS is warned about.
 */
export function authorizedKeysChecks(text: string, path: string, now: number = Date.now()): Check[] {
  const out: Check[] = [];
  const lines = parseAuthorizedKeys(text);
  for (const [i, l] of lines.entries()) {
    if (l.kind === 'invalid') out.push(warn('authorized_keys', `${path}:${i + 1} is not a valid line (${l.error}); sshd ignores it`, 'fix or remove the line'));
    const exp = l.kind === 'key' ? lineExpiry(l.options) : null;
    if (l.kind === 'key' && exp && 'epoch' in exp) {
      const where = `${path}:${i + 1} ${describeKey(l.key)}`;
      const left = exp.epoch - Math.floor(now / 1000);
      if (isExpired(exp.epoch, { now })) out.push(warn('key expiry', `${where} expired ${isoTime(exp.epoch)}: sshd refuses it`, 'gatekeeper uninstall --expired (or install --key again with a new --expires)'));
      else if (left <= EXPIRY_WARNING_SECONDS) out.push(warn('key expiry', `${where} expires ${isoTime(exp.epoch)} (in ${formatLeft(left)})`, 'gatekeeper install --key FILE --expires WHEN again to extend it, or let it lapse'));
      else out.push(ok('key expiry', `${where} expires ${isoTime(exp.epoch)}`));
    }
    if (l.kind === 'key' && isDsaType(l.key.type)) {
      out.push(fail('DSA key', `${path}:${i + 1} ${describeKey(l.key)}: DSA is off by default since OpenSSH 7.0 and gone in 10.0`, 'ssh-keygen -t ed25519 on the client, then gatekeeper install --key the new .pub'));
    }
  }
  for (const g of gateLines(text)) {
    const where = `${path}: ${describeKey(g.line.key)}`;
    const restricted = hasOption(g.line.options, 'restrict') || LEGACY.every((r) => hasOption(g.line.options, r));
    const problems: string[] = [];
    if (!restricted) problems.push('no restrict (forwarding, pty and ~/.ssh/rc stay allowed)');
    if (!g.launcher.startsWith('/')) problems.push(`${g.launcher} is not an absolute path`);
    else {
      try {
        accessSync(g.launcher, constants.X_OK);
        const t = trustProblem(g.launcher);
        if (t) problems.push(t);
      } catch {
        problems.push(`${g.launcher} is missing or not executable`);
      }
    }
    if (!g.policy) problems.push('no --policy');
    if (hasOption(g.line.options, 'environment')) problems.push('environment= on a gate line (with PermitUserEnvironment, OPENSSL_CONF or NODE_OPTIONS there run code before the gate decides)');
    out.push(problems.length ? fail('gate line', `${where}: ${problems.join('; ')}`, 'gatekeeper install again for this key') : ok('gate line', `${where} → ${g.command}`));
  }
  return out;
}

/**
 * sshd's StrictModes walk (misc.c safe_path, called by auth.c
 * auth_secure_path): the file must be a regular file, and it and every
 * directory above it up to and including the home directory must be owned
 * by root or the user and not writable by group or others; otherwise sshd
 * refuses the file ("bad ownership or modes"): a fail here. sshd stops at
 * the home directory; a directory above it that others can write is a warn
 * (they can swap the home), as is a file or ~/.ssh merely more readable than
 * it needs to be (644 is what sshd accepts; 600 and 700 are tidier).
 */
export function modeChecks(path: string, user: PasswdEntry, stat: (p: string) => Stats | null = safeLstat): Check[] {
  const refused: string[] = [];
  const loose: string[] = [];
  const file = stat(path);
  if (!file) return [fail('authorized_keys modes', `${path} does not exist`, 'gatekeeper install')];
  if (!file.isFile()) refused.push(`${path} is not a regular file`);
  const home = user.home.replace(/\/+$/, '') || '/';
  let p = path;
  let pastHome = false;
  for (;;) {
    const st = p === path ? file : stat(p);
    const bad = pastHome ? loose : refused;
    if (!st) bad.push(`${p} cannot be read`);
    else {
      if (st.uid !== 0 && st.uid !== user.uid) bad.push(`${p} is owned by uid ${st.uid}`);
      if (st.mode & 0o022) bad.push(`${p} is writable by group or others (${(st.mode & 0o7777).toString(8)})`);
    }
    if (p === home) pastHome = true;
    if (p === '/' || p === dirname(p)) break;
    p = dirname(p);
  }
  if (file.mode & 0o077 && !(file.mode & 0o022)) loose.push(`${path} is mode ${(file.mode & 0o777).toString(8)} (sshd accepts it; 600 keeps the keys' options private)`);
  const sshDir = stat(dirname(path));
  if (sshDir && sshDir.mode & 0o077 && !(sshDir.mode & 0o022)) loose.push(`${dirname(path)} is mode ${(sshDir.mode & 0o777).toString(8)} (700 is tidier)`);
  const fix = `chown ${user.name} and chmod go-w along the path; chmod 700 ${dirname(path)}; chmod 600 ${path}`;
  if (refused.length) return [fail('authorized_keys modes', `sshd's StrictModes refuses the file: ${refused.join('; ')}${loose.length ? `; also ${loose.join('; ')}` : ''}`, fix)];
  if (loose.length) return [warn('authorized_keys modes', `sshd accepts the file, but ${loose.join('; ')}`, fix)];
  return [ok('authorized_keys modes', `${path} and every directory above it: owned by root or ${user.name}, not writable by others`)];
}

function safeLstat(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the shell

/**
 * Run the login shell as sshd would for a forced command (`SHELL -c COMMAND`,
 * as the user, in the home directory, with SSH_CLIENT set: bash then reads
 * ~/.bashrc) and count the bytes on stdout. Any byte there lands in the rsync
 * protocol stream: "protocol version mismatch -- is your shell clean?".
 */
export async function shellCheck(user: PasswdEntry): Promise<Check[]> {
  const out: Check[] = [];
  const shell = user.shell || '/bin/sh';
  if (!shell.startsWith('/') || !existsSync(shell)) return [fail('shell', `${user.name}'s login shell ${shell} does not exist`, 'usermod -s /bin/sh ' + user.name)];
  const env = {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    SHELL: shell,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    SSH_CLIENT: '127.0.0.1 50000 22',
    SSH_CONNECTION: '127.0.0.1 50000 127.0.0.1 22',
  };
  const r = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
    const child = spawn(shell, ['-c', 'true'], { env, cwd: existsSync(user.home) ? user.home : '/', uid: user.uid, gid: user.gid, stdio: ['pipe', 'pipe', 'pipe'], timeout: 15_000 });
    const so: Buffer[] = [];
    let se = '';
    child.stdout.on('data', (d: Buffer) => so.push(d));
    child.stderr.on('data', (d: Buffer) => (se += d.toString()));
    child.stdin.end();
    child.on('error', (e) => resolve({ code: null, stdout: Buffer.concat(so), stderr: e.message }));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(so), stderr: se }));
  });
  if (r.stdout.length === 0 && r.code === 0) out.push(ok('shell is clean', `${shell} -c true as ${user.name} writes 0 bytes to stdout`));
  else if (r.stdout.length > 0) {
    const sample = JSON.stringify(r.stdout.subarray(0, 60).toString('utf8'));
    out.push(fail('shell is clean', `${shell} -c true as ${user.name} writes ${r.stdout.length} byte(s) to stdout (${sample}): rsync reports "protocol version mismatch -- is your shell clean?"`, `make ${user.home}/.bashrc (or the shell's startup files) print nothing when not interactive: e.g. start it with [ -z "$PS1" ] && return`));
  } else out.push(fail('shell is clean', `${shell} -c true as ${user.name} exits ${r.code}${r.stderr ? `: ${r.stderr.trim().slice(0, 200)}` : ''}`, `fix ${user.name}'s shell startup files`));
  if (basename(shell) === 'bash') {
    out.push(warn('shell', `${user.name}'s shell is bash, which reads ~/.bashrc for commands run by sshd (rrsync's "BASH SECURITY ISSUE"): whoever can write that file runs code before the gate`, `keep ${user.home}/.bashrc root-owned and quiet, or give a dedicated backup user /bin/sh`));
  }
  for (const rc of ['/etc/ssh/sshrc', `${user.home}/.ssh/rc`]) {
    if (!existsSync(rc)) continue;
    const sys = rc === '/etc/ssh/sshrc';
    out.push(
      warn(
        'rc file',
        `${rc} exists: sshd runs it before the command${sys ? ' (restrict does not stop /etc/ssh/sshrc)' : ' unless the key has restrict/no-user-rc'}, and its stdout goes into the rsync stream`,
        `make sure it prints nothing, or remove it`,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------- policies, rsync, log

export interface RsyncInfo {
  version: string;
  protocol: number;
}

export function parseRsyncVersion(text: string): RsyncInfo | null {
  const m = /rsync\s+version\s+v?(\S+)\s+protocol version (\d+)/.exec(text);
  return m ? { version: m[1] ?? '', protocol: Number(m[2]) } : null;
}

export async function policyChecks(name: string, policyDir: string | undefined, user: PasswdEntry): Promise<Check[]> {
  const out: Check[] = [];
  const label = `policy ${name}`;
  let loaded: LoadedPolicy;
  try {
    loaded = await loadPolicy(name, { policyDir, checkTrust: true });
  } catch (e) {
    return [fail(label, (e as Error).message, `fix the policy file, then: gatekeeper check --policy ${name} -- 'rsync --server --sender -vlogDtprze.iLsfxCIvu . /'`)];
  }
  const p = loaded.policy;
  out.push(ok(label, `${loaded.file}: valid, root-owned chain (root ${p.root}, ${p.access})`));
  let confineSupported = false;
  try {
    accessSync(p.rsync, constants.X_OK);
  } catch {
    out.push(fail(`${label}: rsync`, `${p.rsync} is missing or not executable`, `install rsync or set rsync: in ${loaded.file}`));
    return out;
  }
  const t = trustProblem(p.rsync);
  if (t) out.push(fail(`${label}: rsync`, t, `make ${p.rsync} and its directories root-owned and not writable by others`));
  const v = await run(p.rsync, ['--version']);
  const info = parseRsyncVersion(v.stdout);
  if (!info) out.push(fail(`${label}: rsync`, `${p.rsync} --version does not say its version (${(v.error ?? v.stderr ?? '').trim().slice(0, 120)})`, 'point rsync: at a real rsync'));
  else {
    out.push(ok(`${label}: rsync`, `${p.rsync} version ${info.version} protocol version ${info.protocol} (compare with the client's rsync --version; --protocol=N pins an older one)`));
    const help = (await run(p.rsync, ['--help'])).stdout;
    const confine = help.includes('--confine-root') && help.includes('--drop-D');
    confineSupported = confine;
    if (p.root !== '/' && p.confineRoot !== false) {
      if (confine) out.push(ok(`${label}: confinement`, `${p.rsync} supports --confine-root and --drop-D: the gate adds them for root ${p.root}`));
      else if (p.confineRoot === true) out.push(fail(`${label}: confinement`, `confineRoot: true but ${p.rsync} has no --confine-root/--drop-D (needs rsync 3.5+)`, 'install rsync 3.5+ or set confineRoot: auto'));
      else out.push(warn(`${label}: confinement`, `${p.rsync} has no --confine-root: paths are checked by the gate only`, 'install rsync 3.5+ for kernel-side confinement'));
    }
  }
  if (p.access !== 'read-only' && !p.daemon) {
    // Under a restricted root the gate forces --drop-D when the rsync has it: no device nodes arrive.
    const dropD = p.root !== '/' && (p.confineRoot === true || (p.confineRoot === 'auto' && confineSupported));
    out.push(mountCheck(label, p.root, p.setuid, !dropD));
  }
  if (p.daemon) {
    const d = trustProblem(p.daemon.config);
    out.push(d ? fail(`${label}: daemon config`, d, `make ${p.daemon.config} root-owned, not writable by others`) : ok(`${label}: daemon config`, `${p.daemon.config} is root-owned`));
  }
  for (const log of [p.log, p.transferLog]) {
    if (log === undefined) continue;
    if (log === 'syslog') {
      // The gate refuses every session it cannot log: a missing socket locks the key out.
      const socket = p.syslogSocket ?? '/dev/log';
      let isSocket = false;
      try {
        isSocket = statSync(socket).isSocket(); // /dev/log is often a symlink into /run
      } catch {
        /* missing */
      }
      if (isSocket) out.push(ok(`${label}: log`, `syslog, through ${socket}`));
      else out.push(fail(`${label}: log`, `syslog, but ${socket} is not a socket: the gate cannot log, so it refuses every connection`, 'start the system logger (rsyslog or journald), or set syslogSocket to its socket'));
      continue;
    }
    out.push(logDirCheck(label, dirname(log), user));
  }
  return out;
}

// ---------------------------------------------------------------- mounts

export interface Mount {
  mountPoint: string;
  fsType: string;
  /** Per-mount options (where nosuid and nodev are). */
  options: string[];
}

/** The mount a canonical path lies on: the longest mount point that is a prefix of it (the last one mounted, when stacked). */
export function mountOf(path: string, mountinfo: string): Mount | null {
  let best: Mount | null = null;
  for (const line of mountinfo.split('\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 6 || dash < 0) continue;
    const mountPoint = f[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    const under = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (under && (!best || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, fsType: f[dash + 1] ?? '', options: f[5]!.split(',') };
  }
  return best;
}

/**
 * A write policy's root on a filesystem mounted without nosuid (and nodev,
 * where device files can arrive): the kernel-side second line behind
 * `setuid: strip` and --drop-D.
 */
export function mountCheck(label: string, root: string, setuid: 'strip' | 'keep', devicesAllowed: boolean, mountinfo?: string): Check {
  const name = `${label}: mount`;
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    return fail(name, `the policy root ${root} does not exist: the gate refuses every session`, `create ${root} or fix root: in the policy`);
  }
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch (e) {
      return warn(name, `cannot read /proc/self/mountinfo (${(e as Error).message}): the mount options of ${real} are unknown`, 'run doctor on Linux with /proc mounted');
    }
  }
  const m = mountOf(real, text);
  if (!m) return warn(name, `no mount in /proc/self/mountinfo holds ${real}`, 'run doctor on Linux with /proc mounted');
  const missing = [...(m.options.includes('nosuid') ? [] : ['nosuid']), ...(devicesAllowed && !m.options.includes('nodev') ? ['nodev'] : [])];
  const on = `${real} is on ${m.mountPoint} (${m.fsType}, ${m.options.join(',')})`;
  if (missing.length === 0) return ok(name, `${on}: setuid bits${devicesAllowed ? ' and device files' : ''} pushed there have no effect`);
  const why = [
    ...(missing.includes('nosuid') ? [setuid === 'keep' ? 'the policy keeps setuid bits (setuid: keep), so a pushed setuid-root file is one on this server' : 'the gate strips setuid bits (setuid: strip), but nothing in the kernel backs that up'] : []),
    ...(missing.includes('nodev') ? ['device files can arrive (no --drop-D: root is / or the rsync lacks --confine-root), and a pushed device node opens a disk'] : []),
  ];
  return warn(name, `${on}, without ${missing.join(' and ')}: ${why.join('; ')}`, `mount ${m.mountPoint} with ${missing.join(',')} (its line in /etc/fstab), or move the policy root to a filesystem that is`);
}

export function logDirCheck(label: string, dir: string, user: PasswdEntry): Check {
  const st = safeLstat(dir);
  const name = `${label}: log directory`;
  if (!st || !st.isDirectory()) return fail(name, `${dir} does not exist: the gate cannot log, so it refuses every connection`, `install -d -m 0750 -o ${user.name} ${dir} (gatekeeper install does)`);
  const problems: string[] = [];
  if (st.uid !== user.uid) problems.push(`owned by uid ${st.uid}, the gate runs as ${user.name} (${user.uid})`);
  if (st.mode & 0o022) problems.push(`writable by group or others (${(st.mode & 0o7777).toString(8)})`);
  if (!(st.mode & 0o200)) problems.push('not writable by its owner');
  return problems.length ? fail(name, `${dir}: ${problems.join('; ')}`, `chown ${user.name} ${dir}; chmod 0750 ${dir}`) : ok(name, `${dir}: writable by ${user.name} only (${(st.mode & 0o7777).toString(8)})`);
}

// ---------------------------------------------------------------- node

/** The glibc the self-contained executable needs: Node 24's own Linux builds need 2.28 (RHEL 8+, Debian 10+, Ubuntu 20.04+). */
export const GLIBC_NEEDED = '2.28';

/** What runs gatekeeper: the executable's embedded Node or a plain node, and what the gate needs of it. */
export interface RuntimeInfo {
  executable: boolean;
  v: string;
  execve: boolean;
  builtin: boolean;
  /** glibc's version at run time, null when not linked with glibc. */
  glibc: string | null;
}

/** The same probe for another node (`node -e`); it must run on old Node versions too. */
const RUNTIME_PROBE =
  'const s=typeof process.getBuiltinModule==="function"?process.getBuiltinModule("node:sea"):undefined;' +
  'const h=process.report.getReport().header;' +
  'process.stdout.write(JSON.stringify({executable:!!(s&&s.isSea()),v:process.version,execve:typeof process.execve==="function",builtin:typeof process.getBuiltinModule==="function",glibc:h.glibcVersionRuntime||null}))';

/** This process's runtime (`gatekeeper doctor --runtime` prints it). */
export function runtimeInfo(): RuntimeInfo {
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea') | undefined;
  const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
  return {
    executable: sea?.isSea() === true,
    v: process.version,
    execve: typeof (process as { execve?: unknown }).execve === 'function',
    builtin: typeof process.getBuiltinModule === 'function',
    glibc: header.glibcVersionRuntime ?? null,
  };
}

const versionBelow = (a: string, b: string): boolean => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(x!.length, y!.length); i++) if ((x![i] ?? 0) !== (y![i] ?? 0)) return (x![i] ?? 0) < (y![i] ?? 0);
  return false;
};

/** Ask what runs the gate: the launcher's node (its #! line), the executable a gate line names, or this process. */
async function probeRuntime(launcher: string | null): Promise<{ what: string; info: RuntimeInfo } | { what: string; error: string }> {
  if (!launcher || !existsSync(launcher)) return { what: `${process.execPath} (running doctor)`, info: runtimeInfo() };
  let cmd: string;
  let args: string[];
  let what: string;
  const head = readHead(launcher);
  if (head.startsWith('#!/')) {
    cmd = head.slice(2).split('\n')[0]!.trim();
    args = ['-e', RUNTIME_PROBE];
    what = `${cmd} (from ${launcher})`;
  } else {
    // A gatekeeper executable (the forced command runs it directly).
    cmd = launcher;
    args = ['doctor', '--runtime'];
    what = launcher;
  }
  const r = await run(cmd, args);
  try {
    return { what, info: JSON.parse(r.stdout) as RuntimeInfo };
  } catch {
    return { what, error: (r.error ?? r.stderr).trim().slice(0, 200) };
  }
}

/** The first bytes of a file (a launcher script's #! line, or an executable's ELF header). */
function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(256);
    return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

export async function nodeCheck(launcher: string | null): Promise<Check> {
  const p = await probeRuntime(launcher);
  if ('error' in p) {
    return fail('node', `${p.what} does not run: ${p.error}`, `the executable needs glibc ${GLIBC_NEEDED} or later; for the npm build: gatekeeper install --node /usr/bin/node`);
  }
  const { info } = p;
  const glibc = info.glibc === null ? 'no glibc' : `glibc ${info.glibc}`;
  if (info.executable) {
    const detail = `${p.what}: the gatekeeper executable, embedded Node ${info.v}, process.execve ${info.execve ? 'available: rsync replaces the gate (same pid)' : 'missing'}; needs glibc ${GLIBC_NEEDED}+, has ${info.glibc ?? 'none'}`;
    if (info.glibc === null || versionBelow(info.glibc, GLIBC_NEEDED)) return fail('node', detail, `run it on a system with glibc ${GLIBC_NEEDED} or later (RHEL 8+, Debian 10+, Ubuntu 20.04+)`);
    return info.execve ? ok('node', detail) : warn('node', detail, 'rebuild the executable from Node 22.15+');
  }
  const major = Number(/^v(\d+)/.exec(info.v)?.[1]);
  // The bundle takes Node's built-ins from process.getBuiltinModule (20.16+).
  if (major < 20 || !info.builtin) return fail('node', `${p.what} is ${info.v}; gatekeeper needs Node 20.16 or later`, 'install Node 20.16+ (22 or 24 LTS for execve) and run gatekeeper install --node PATH, or use the self-contained executable');
  return info.execve
    ? ok('node', `${p.what}: node ${info.v}, process.execve available, rsync replaces the gate (same pid); ${glibc}`)
    : warn('node', `${p.what}: node ${info.v}, no process.execve, the gate spawns rsync and stays as its parent; ${glibc}`, 'Node 22.15+/23.11+ has process.execve; gatekeeper install --node PATH, or use the self-contained executable');
}

/**
 * The gate's cache: used only when it is root's alone (owner root, mode 0700,
 * a root-only chain above it); otherwise every session pays the full parse
 * and validation. Missing is fine: the gate creates it.
 */
export function cacheCheck(dir: string = CACHE_DIR): Check {
  const st = safeLstat(dir);
  if (!st) return ok('cache', `${dir} does not exist yet: the gate creates it (0700) on its first session`);
  if (!st.isDirectory()) return warn('cache', `${dir} is not a directory: the gate runs without its cache (slower start-up)`, `rm ${dir}`);
  if (st.uid !== 0 || (st.mode & 0o077) !== 0) {
    return warn('cache', `${dir} is owned by uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}: the gate ignores it (slower start-up)`, `chown root:root ${dir} && chmod 700 ${dir}`);
  }
  return ok('cache', `${dir}: root's alone, used for validated policies and compiled code`);
}

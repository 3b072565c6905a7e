// `gatekeeper enroll` and `gatekeeper unenroll`: the backup machine's side, in
// one command. ssh-copy-id is the model for touching the server: one small,
// fully quoted remote command (`gatekeeper install ... --key -` with the public
// key on stdin), never a script pieced together from user input, and the result
// proved by logging in with the new key (the probe, then a dry-run pull).
// Never loaded by the gate. Runs ssh, ssh-keygen, ssh-keyscan and rsync only, never a shell.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, machine } from 'node:os';
import { join } from 'node:path';
import { quoteWords } from '../shell/tokenize.js';
import { parseTarget, probe, splitShell, type ProbeResult, type Target } from '../probe/probe.js';
import type { Describe } from '../describe/schema.js';
import { cronLine, pickSlot, SAFE_WORD, systemdUnits } from './schedule.js';

export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

export interface EnrollOptions {
  target: string;
  e: string;
  policy: string;
  via?: string;
  viaE: string;
  installArg: string[];
  keyDir: string;
  storage: string;
  from?: string;
  schedule?: string;
  cron: boolean;
  unitDir?: string;
  serverGatekeeper: string;
  /** The self-contained executable to copy when the server has none at serverGatekeeper (default: this one, when it is the SEA). */
  executable?: string;
  rsync: string;
  dryRun: boolean;
}

export interface Action {
  what: string;
  action: 'created' | 'updated' | 'unchanged' | 'removed' | 'ran' | 'would create' | 'would update' | 'would remove' | 'would run' | 'kept';
  detail: string;
}

export interface EnrollResult {
  code: number;
  changed: boolean;
  dryRun: boolean;
  actions: Action[];
  error?: string;
  probe?: ProbeResult;
  command?: string;
}

/** What unenroll needs, written by enroll next to the key. */
interface EnrollState {
  v: 1;
  target: string;
  host: string;
  via: string;
  viaE: string;
  serverGatekeeper: string;
  uninstallArgs: string[];
  key: string;
  knownHosts: string;
  hostPattern: string;
  units: string[];
}

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const SSH_KEYSCAN = '/usr/bin/ssh-keyscan';
/** install's path options, which uninstall takes too (with their values); the rest of --install-arg is install's alone. */
const PATH_OPTIONS = new Set(['--user', '--sshd-config', '--authorized-keys', '--prefix', '--config-dir', '--sshd']);
const FLAG_OPTIONS = new Set(['--dry-run', '--no-reload', '--json', '--yes']);

export function names(keyDir: string, host: string) {
  return {
    key: join(keyDir, `${host}_ed25519`),
    knownHosts: join(keyDir, 'known_hosts'),
    state: join(keyDir, `${host}.enroll.json`),
    unit: `gatekeeper-backup-${host}`,
  };
}

const firstLine = (s: string) => s.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';

/** A directory we own: created 0700 when missing; a symlink or a non-directory there is refused. */
function privateDir(path: string, dryRun: boolean, actions: Action[], what: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    if (!dryRun) mkdirSync(path, { mode: 0o700 });
    actions.push({ what, action: dryRun ? 'would create' : 'created', detail: `${path} (0700)` });
    return;
  }
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Refusal(EX_NOPERM, `${path} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}: refusing to use it for ${what}`);
  if ((st.mode & 0o777) !== 0o700) {
    if (!dryRun) chmodSync(path, 0o700);
    actions.push({ what, action: dryRun ? 'would update' : 'updated', detail: `${path} mode ${(st.mode & 0o777).toString(8)} → 0700` });
  } else actions.push({ what, action: 'unchanged', detail: `${path} (0700)` });
}

class Refusal extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Write a file only when its bytes differ; report which. */
function writeIfDifferent(path: string, text: string, mode: number, dryRun: boolean, actions: Action[], what: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (old === text) {
    actions.push({ what, action: 'unchanged', detail: path });
    return;
  }
  if (old !== null && lstatSync(path).isSymbolicLink()) throw new Refusal(EX_NOPERM, `${path} is a symbolic link: refusing to write ${what} through it`);
  if (!dryRun) {
    writeFileSync(`${path}.tmp`, text, { mode });
    chmodSync(`${path}.tmp`, mode);
    spawnSync('/bin/mv', ['-f', `${path}.tmp`, path]);
  }
  actions.push({ what, action: dryRun ? (old === null ? 'would create' : 'would update') : old === null ? 'created' : 'updated', detail: path });
}

function portOf(shell: string[]): number {
  const i = shell.indexOf('-p');
  return i >= 0 ? Number(shell[i + 1]) : 22;
}

/** The remote command for the admin login: sudo when the login is not root; every word quoted. */
export function remoteCommand(viaUser: string, serverGatekeeper: string, words: string[]): string {
  return quoteWords([...(viaUser === 'root' ? [] : ['sudo', '-n', '--']), ...splitShell(serverGatekeeper), ...words]);
}

function viaSsh(viaE: string, via: string, command: string, input: string | Buffer): { code: number | null; stdout: string; stderr: string } {
  const shell = splitShell(viaE);
  const r = spawnSync(shell[0]!, [...shell.slice(1), via, command], { input, encoding: 'utf8', timeout: 300_000, maxBuffer: 8 << 20 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** install's and uninstall's --json answer: its `changed`. */
function changedOf(stdout: string): boolean | null {
  try {
    const j = JSON.parse(stdout) as { changed?: unknown };
    return typeof j.changed === 'boolean' ? j.changed : null;
  } catch {
    return null;
  }
}

export function uninstallArgsOf(installArgs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < installArgs.length; i++) {
    const a = installArgs[i]!;
    const name = a.split('=')[0]!;
    const takesValue = !a.includes('=') && !FLAG_OPTIONS.has(name);
    if (PATH_OPTIONS.has(name)) out.push(a, ...(takesValue && i + 1 < installArgs.length ? [installArgs[i + 1]!] : []));
    if (takesValue) i++;
  }
  return out;
}

function checkWords(label: string, words: readonly string[]): void {
  for (const w of words) if (!SAFE_WORD.test(w)) throw new Refusal(EX_USAGE, `${label}: ${JSON.stringify(w)} holds a character enroll does not put into a unit or cron line (space, quote, %, $, \\): use plain words and paths`);
}

/** ELF e_machine → `uname -m`'s name; a file that is not ELF (a node script) runs on any CPU node does: this machine's. */
const ELF_MACHINES: Record<number, string> = { 0x3e: 'x86_64', 0xb7: 'aarch64' };
export function architectureOf(file: string): string {
  const b = readFileSync(file);
  if (b.length < 20 || b.readUInt32BE(0) !== 0x7f454c46) return machine();
  const m = b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18);
  return ELF_MACHINES[m] ?? `ELF machine ${m}`;
}

/**
 * Step 3's first half, as ssh-copy-id does it: ask over the admin login whether PATH runs (`PATH --version`);
 * when it does not, copy the local self-contained executable there with one fixed, fully quoted command
 * (`install -m 0755 /dev/stdin PATH`, the bytes on stdin), and prove it by running `PATH --version` again and
 * comparing with the local version. A server of another architecture is refused before anything is sent.
 */
function ensureExecutable(o: EnrollOptions, via: string, viaUser: string, actions: Action[]): void {
  const path = o.serverGatekeeper;
  const sudo = viaUser === 'root' ? [] : ['sudo', '-n', '--'];
  const run = (words: string[], input: string | Buffer = '') => viaSsh(o.viaE, via, quoteWords([...sudo, ...words]), input);
  const there = run([path, '--version']);
  if (there.code === 255) throw new Refusal(EX_UNAVAILABLE, `cannot log in over ${via}: ${firstLine(there.stderr)}`);
  if (there.code === 0) {
    actions.push({ what: 'the executable', action: 'unchanged', detail: `${via}:${path} (${firstLine(there.stdout)})` });
    return;
  }
  const exe = o.executable ?? ((process.getBuiltinModule('node:sea') as typeof import('node:sea') | undefined)?.isSea() ? process.execPath : undefined);
  if (exe === undefined) throw new Refusal(EX_CONFIG, `${via}:${path} does not run (${firstLine(there.stderr) || `exit ${there.code}`}) and this gatekeeper is not the self-contained executable: pass --executable FILE (the linux executable to copy there), or install gatekeeper on the server first`);
  if (!exe.startsWith('/')) throw new Refusal(EX_USAGE, `--executable ${exe}: an absolute path, please`);
  const st = lstatSync(exe, { throwIfNoEntry: false });
  if (!st || !st.isFile()) throw new Refusal(EX_CONFIG, `--executable ${exe} is ${st ? 'not a regular file' : 'missing'}`);
  const arch = architectureOf(exe);
  const u = run(['uname', '-m']);
  const serverArch = u.stdout.trim();
  if (u.code !== 0 || serverArch === '') throw new Refusal(EX_UNAVAILABLE, `uname -m over ${via} failed (exit ${u.code}): ${firstLine(u.stderr)}`);
  if (serverArch !== arch) throw new Refusal(EX_CONFIG, `${via} is ${serverArch} and ${exe} is ${arch}: refusing to copy it; pass --executable with the linux-${serverArch === 'aarch64' ? 'arm64' : serverArch === 'x86_64' ? 'x64' : serverArch} executable, or install gatekeeper on the server first`);
  const local = spawnSync(exe, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  const version = (local.stdout ?? '').trim();
  if (local.status !== 0 || version === '') throw new Refusal(EX_CONFIG, `${exe} --version did not answer (exit ${local.status}): it is not a gatekeeper executable this machine can run (and so cannot check the copy)`);
  const copy = ['install', '-m', '0755', '/dev/stdin', path];
  const detail = `${exe} (${arch}, ${version}, ${st.size} bytes) to ${via}:${path}: ${quoteWords([...sudo, ...copy])} (the bytes on stdin)`;
  if (o.dryRun) {
    actions.push({ what: 'the executable', action: 'would create', detail });
    return;
  }
  const c = run(copy, readFileSync(exe));
  if (c.code !== 0) throw new Refusal(c.code === 255 ? EX_UNAVAILABLE : EX_SOFTWARE, `copying ${exe} to ${via}:${path} failed (exit ${c.code}): ${firstLine(c.stderr)}`);
  const after = run([path, '--version']);
  if (after.code !== 0 || after.stdout.trim() !== version) throw new Refusal(EX_SOFTWARE, `${via}:${path} was copied but ${path} --version says ${JSON.stringify(after.stdout.trim())} (exit ${after.code}), not ${JSON.stringify(version)}: ${firstLine(after.stderr)}`);
  actions.push({ what: 'the executable', action: 'created', detail: `${detail}; ${path} --version there: ${version}` });
}

/** A public key as known_hosts and .pub files hold it. */
interface HostKey {
  type: string;
  blob: string;
}

/** `type blob [comment]` lines (a .pub file, ssh-keyscan's `host type blob`): the keys, comments and blanks dropped. */
export function parseKeys(text: string, withHost: boolean): HostKey[] {
  const keys: HostKey[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === '' || f[0]!.startsWith('#')) continue;
    const [type, blob] = withHost ? [f[1], f[2]] : [f[0], f[1]];
    if (type && blob && /^[a-z0-9@.-]+$/.test(type) && /^[A-Za-z0-9+/]+=*$/.test(blob)) keys.push({ type, blob });
  }
  return keys;
}

/** `hostkey PATH` lines of sshd -T: the private keys sshd serves (their .pub beside them). */
export function hostKeyPaths(sshdT: string): string[] {
  return sshdT.split('\n').flatMap((l) => {
    const m = /^hostkey\s+(\/\S+)\s*$/i.exec(l.trim());
    return m ? [m[1]!] : [];
  });
}

function fingerprint(k: HostKey): string {
  const r = spawnSync(SSH_KEYGEN, ['-l', '-f', '-'], { input: `${k.type} ${k.blob}\n`, encoding: 'utf8' });
  return `${k.type} ${(r.stdout ?? '').trim().split(/\s+/)[1] ?? '?'}`;
}
const fingerprints = (keys: readonly HostKey[]) => keys.map(fingerprint).join(', ');
const sameKey = (a: HostKey) => (b: HostKey) => a.type === b.type && a.blob === b.blob;

/** The value of one of install's options in --install-arg (`--name VALUE` or `--name=VALUE`), the last one given. */
export function installOption(installArgs: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < installArgs.length; i++) {
    const a = installArgs[i]!;
    if (a === name && i + 1 < installArgs.length) value = installArgs[++i];
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1);
  }
  return value;
}

/**
 * Step 2. ssh-keyscan alone is unauthenticated: whoever answers on the port is believed. So the keys come over
 * the admin's login, which ssh verified against the admin's own known_hosts (StrictHostKeyChecking as the admin
 * configured it): `sshd -T` names the host keys sshd really serves (install's --sshd and --sshd-config when
 * given), and their .pub files are read there. Then the backup port is scanned: every key it answers with must be
 * one of those, else another machine or daemon answers there (a wrong port, a forwarded one, someone in between)
 * and enroll stops (77) before anything is sent to the server, naming both fingerprints. The keys that pass are
 * pinned; a pin that is there already and differs is refused as a changed key.
 */
function pinHostKey(o: EnrollOptions, via: string, viaUser: string, host: string, port: number, hostPattern: string, knownHosts: string, actions: Action[]): boolean {
  const sudo = viaUser === 'root' ? [] : ['sudo', '-n', '--'];
  const run = (words: string[]) => viaSsh(o.viaE, via, quoteWords([...sudo, ...words]), '');
  const sshd = installOption(o.installArg, '--sshd') ?? '/usr/sbin/sshd';
  const config = installOption(o.installArg, '--sshd-config') ?? '/etc/ssh/sshd_config';
  const t = run([sshd, '-T', '-f', config]);
  if (t.code === 255) throw new Refusal(EX_UNAVAILABLE, `cannot log in over ${via}: ${firstLine(t.stderr)}`);
  const paths = t.code === 0 ? hostKeyPaths(t.stdout) : [];
  if (paths.length === 0) throw new Refusal(EX_CONFIG, `cannot read the server's host keys over ${via}: ${sshd} -T -f ${config} ${t.code === 0 ? 'names no hostkey' : `failed (exit ${t.code}): ${firstLine(t.stderr)}`}`);
  const pubs = run(['cat', '--', ...paths.map((p) => `${p}.pub`)]);
  const served = parseKeys(pubs.stdout, false);
  if (pubs.code !== 0 || served.length === 0) throw new Refusal(EX_CONFIG, `cannot read the server's host keys over ${via}: cat ${paths.map((p) => `${p}.pub`).join(' ')} failed (exit ${pubs.code}): ${firstLine(pubs.stderr)} (each HostKey needs its .pub beside it: ssh-keygen -y -f KEY > KEY.pub)`);

  const scan = spawnSync(SSH_KEYSCAN, ['-T', '10', '-p', String(port), host], { encoding: 'utf8' });
  const scanned = parseKeys(scan.stdout ?? '', true);
  if (scanned.length === 0) throw new Refusal(EX_UNAVAILABLE, `cannot read ${hostPattern}'s host key (ssh-keyscan: ${firstLine(scan.stderr ?? '') || 'no answer'})`);
  const foreign = scanned.filter((k) => !served.some(sameKey(k)));
  if (foreign.length > 0) {
    throw new Refusal(EX_NOPERM, `${hostPattern} answers with host key ${fingerprints(foreign)}, which is not one of the keys ${via}'s sshd serves (read over the admin login from ${sshd} -T -f ${config}: ${fingerprints(served)}): another machine or daemon answers on that port (a wrong -e port, a forwarded port, or someone in between); nothing was sent to the server`);
  }

  const known = existsSync(knownHosts) ? readFileSync(knownHosts, 'utf8') : '';
  const pinned = parseKeys(known.split('\n').filter((l) => l.split(/\s+/)[0] === hostPattern).join('\n'), true);
  const stale = pinned.filter((k) => !scanned.some(sameKey(k)));
  if (stale.length > 0) throw new Refusal(EX_NOPERM, `${hostPattern}'s host key changed since it was pinned in ${knownHosts} (pinned ${fingerprints(stale)}, now ${fingerprints(scanned)}): verify it out of band, then ssh-keygen -R '${hostPattern}' -f ${knownHosts} and enroll again`);
  const missing = scanned.filter((k) => !pinned.some(sameKey(k)));
  if (missing.length === 0) {
    actions.push({ what: 'the host key', action: 'unchanged', detail: `${hostPattern} ${fingerprints(scanned)} in ${knownHosts}` });
    return true;
  }
  const lines = missing.map((k) => `${hostPattern} ${k.type} ${k.blob}\n`).join('');
  writeIfDifferent(knownHosts, `${known}${known === '' || known.endsWith('\n') ? '' : '\n'}${lines}`, 0o600, o.dryRun, actions, `the host key ${fingerprints(missing)} (read over ${via}, the same at ${hostPattern})`);
  return pinned.length > 0;
}

export function enroll(o: EnrollOptions): EnrollResult {
  const actions: Action[] = [];
  const result = (code: number, extra: Partial<EnrollResult> = {}): EnrollResult => ({
    code,
    dryRun: o.dryRun,
    changed: actions.some((a) => a.action !== 'unchanged' && a.action !== 'ran' && a.action !== 'kept' && a.action !== 'would run'),
    actions,
    ...extra,
  });
  try {
    const t = parseTarget(o.target);
    if (!t) throw new Refusal(EX_USAGE, `${JSON.stringify(o.target)} is not USER@SERVER[:PATH] or USER@SERVER::MODULE`);
    const host = t.host.replace(/^\[|\]$/g, '');
    if (!/^[A-Za-z0-9._:-]+$/.test(host)) throw new Refusal(EX_USAGE, `${JSON.stringify(host)} is not a host name or address`);
    const shell = splitShell(o.e);
    checkWords('-e', shell);
    checkWords('--key-dir/--storage', [o.keyDir, o.storage, ...(t.path ? [t.path] : []), ...(t.module ? [t.module] : [])]);
    if (!o.keyDir.startsWith('/') || !o.storage.startsWith('/')) throw new Refusal(EX_USAGE, '--key-dir and --storage must be absolute paths');
    const via = o.via ?? `${t.user}@${t.host}`;
    const viaUser = /^([^@]+)@/.exec(via)?.[1] ?? 'root';
    const n = names(o.keyDir, host);
    const port = portOf(shell);
    const hostPattern = port === 22 ? host : `[${host}]:${port}`;

    // 1. The key: dedicated, ed25519, 0600, no passphrase (an unattended pull; the policy bounds what it can do).
    privateDir(o.keyDir, o.dryRun, actions, 'the key directory');
    if (existsSync(n.key)) {
      const st = lstatSync(n.key);
      if (st.isSymbolicLink() || !st.isFile()) throw new Refusal(EX_NOPERM, `${n.key} is not a regular file`);
      if ((st.mode & 0o077) !== 0) throw new Refusal(EX_NOPERM, `${n.key} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it or remove it`);
      actions.push({ what: 'the key', action: 'unchanged', detail: n.key });
    } else {
      if (!o.dryRun) {
        const k = spawnSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', `gatekeeper backup: ${hostname()} pulls ${host}`, '-f', n.key], { encoding: 'utf8' });
        if (k.status !== 0) throw new Refusal(EX_SOFTWARE, `ssh-keygen failed: ${firstLine(k.stderr)}`);
        chmodSync(n.key, 0o600);
      }
      actions.push({ what: 'the key', action: o.dryRun ? 'would create' : 'created', detail: `${n.key} (ed25519, 0600, comment "gatekeeper backup: ${hostname()} pulls ${host}")` });
    }

    // 2. The host key, pinned in a known_hosts of our own: taken over the admin login (which ssh authenticated
    // against the admin's own known_hosts), then checked against what the backup port really answers with.
    const pinned = pinHostKey(o, via, viaUser, host, port, hostPattern, n.knownHosts, actions);

    // 3. The server side, over the admin login: the executable first when the server has none at that path
    // (a single absolute path; a command of several words is the admin's own way of running it), then install.
    if (o.serverGatekeeper.startsWith('/') && splitShell(o.serverGatekeeper).length === 1) ensureExecutable(o, via, viaUser, actions);
    const pub = existsSync(`${n.key}.pub`) ? readFileSync(`${n.key}.pub`, 'utf8') : '';
    const words = ['install', '--policy', o.policy, '--key', '-', ...(o.from ? ['--from', o.from] : []), '--json', ...o.installArg];
    const cmd = remoteCommand(viaUser, o.serverGatekeeper, words);
    if (o.dryRun && pub === '') actions.push({ what: 'the server side', action: 'would run', detail: `${via}: ${cmd} (the new public key on stdin)` });
    else {
      const r = viaSsh(o.viaE, via, remoteCommand(viaUser, o.serverGatekeeper, o.dryRun ? [...words, '--dry-run'] : words), pub);
      const changed = changedOf(r.stdout);
      if (r.code !== 0 || changed === null) throw new Refusal(r.code === 255 ? EX_UNAVAILABLE : r.code ?? EX_SOFTWARE, `the server's install over ${via} failed (exit ${r.code}): ${firstLine(r.stderr) || firstLine(r.stdout)}`);
      actions.push({ what: 'the server side', action: changed ? (o.dryRun ? 'would update' : 'updated') : 'unchanged', detail: `${via}: ${cmd}` });
    }

    // 4. The storage.
    privateDir(o.storage, o.dryRun, actions, 'the storage');
    const dest = join(o.storage, host);
    privateDir(dest, o.dryRun, actions, "this server's backups");

    // 5. The probe and a real dry-run pull, through the new key. The pull is the notes' options (archive,
    // numeric ids, one file system, delete) plus -H: a system tree has hard links, and -a alone splits them.
    const backupShell = [shell[0]!, '-i', n.key, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${n.knownHosts}`, ...shell.slice(1)];
    let facts: Describe | undefined;
    let probed: ProbeResult | undefined;
    const canProbe = !o.dryRun || (existsSync(n.key) && pinned);
    if (canProbe) {
      probed = probe({ shell: backupShell.join(' '), target: t, push: false, rsync: o.rsync });
      if (probed.code !== 0) throw Object.assign(new Refusal(probed.code, `the probe failed: ${probed.steps.at(-1)?.line ?? ''}`), { probed });
      facts = probed.describe;
      actions.push({ what: 'the probe', action: 'ran', detail: probed.steps.at(-1)!.line });
    } else actions.push({ what: 'the probe', action: 'would run', detail: `gatekeeper probe -e '${backupShell.join(' ')}' ${o.target}` });
    const remotePath = t.module !== null ? `${t.user}@${host}::${t.module}` : `${t.user}@${host}:${withSlash(t.path ?? facts?.root ?? '/')}`;
    // Into STORAGE/HOST/latest: -a gives the copy the source's own modes (a root of 0755), so the 0700 guard is the parent.
    const pullArgv = [o.rsync, '-e', backupShell.join(' '), '-a', '-H', '--numeric-ids', '-x', '--delete', remotePath, `${join(dest, 'latest')}/`];
    if (canProbe && existsSync(dest)) {
      const dry = spawnSync(o.rsync, [...pullArgv.slice(1, -2), '--dry-run', ...pullArgv.slice(-2)], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'ignore', 'pipe'] });
      if (dry.status !== 0) throw new Refusal(EX_UNAVAILABLE, `the dry-run pull failed (rsync exit ${dry.status}): ${firstLine(dry.stderr ?? '')}`);
      actions.push({ what: 'a dry-run pull', action: 'ran', detail: 'rsync --dry-run exited 0' });
    } else actions.push({ what: 'a dry-run pull', action: 'would run', detail: quoteWords([...pullArgv.slice(0, -2), '--dry-run', ...pullArgv.slice(-2)]) });

    // 6. The schedule.
    const slot = pickSlot(facts?.window ?? null, o.schedule);
    if (typeof slot === 'string') throw new Refusal(EX_USAGE, slot);
    const units: string[] = [];
    if (o.cron) {
      const file = join(o.unitDir ?? '/etc/cron.d', n.unit.replace(/\./g, '_'));
      writeIfDifferent(file, cronLine(host, pullArgv, slot), 0o644, o.dryRun, actions, 'the cron line');
      units.push(file);
    } else {
      const dir = o.unitDir ?? '/etc/systemd/system';
      const u = systemdUnits(n.unit, host, pullArgv, slot);
      writeIfDifferent(join(dir, `${n.unit}.service`), u.service, 0o644, o.dryRun, actions, 'the service');
      writeIfDifferent(join(dir, `${n.unit}.timer`), u.timer, 0o644, o.dryRun, actions, `the timer (${slot.at}${slot.timezone ? ` ${slot.timezone}` : ''}, up to ${slot.delay}s later)`);
      units.push(join(dir, `${n.unit}.service`), join(dir, `${n.unit}.timer`));
    }

    const state: EnrollState = { v: 1, target: o.target, host, via, viaE: o.viaE, serverGatekeeper: o.serverGatekeeper, uninstallArgs: uninstallArgsOf(o.installArg), key: n.key, knownHosts: n.knownHosts, hostPattern, units };
    writeIfDifferent(n.state, `${JSON.stringify(state, null, 2)}\n`, 0o600, o.dryRun, actions, 'what unenroll undoes');
    return result(0, { command: quoteWords(pullArgv), ...(probed ? { probe: probed } : {}) });
  } catch (e) {
    if (e instanceof Refusal) return result(e.code, { error: e.message, ...((e as { probed?: ProbeResult }).probed ? { probe: (e as { probed?: ProbeResult }).probed } : {}) });
    throw e;
  }
}

const withSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

export interface UnenrollOptions {
  host: string;
  keyDir: string;
  dryRun: boolean;
}

/** Undo enroll on both sides, from what it recorded: the server's gate line (uninstall --key), the key, the pinned host key, the units. The backups are kept. */
export function unenroll(o: UnenrollOptions): EnrollResult {
  const actions: Action[] = [];
  const result = (code: number, extra: Partial<EnrollResult> = {}): EnrollResult => ({ code, dryRun: o.dryRun, changed: actions.some((a) => a.action === 'removed' || a.action === 'would remove'), actions, ...extra });
  const n = names(o.keyDir, o.host);
  if (!existsSync(n.state)) return result(EX_USAGE, { error: `${o.host} is not enrolled here (no ${n.state})` });
  const s = JSON.parse(readFileSync(n.state, 'utf8')) as EnrollState;
  const viaUser = /^([^@]+)@/.exec(s.via)?.[1] ?? 'root';
  const cmd = remoteCommand(viaUser, s.serverGatekeeper, ['uninstall', '--key', '-', '--json', ...s.uninstallArgs, ...(o.dryRun ? ['--dry-run'] : [])]);
  const r = viaSsh(s.viaE, s.via, cmd, readFileSync(`${s.key}.pub`, 'utf8'));
  const changed = changedOf(r.stdout);
  if (r.code !== 0 || changed === null) return result(r.code === 255 ? EX_UNAVAILABLE : r.code ?? EX_SOFTWARE, { error: `the server's uninstall over ${s.via} failed (exit ${r.code}): ${firstLine(r.stderr) || firstLine(r.stdout)}` });
  actions.push({ what: 'the server side', action: changed ? (o.dryRun ? 'would remove' : 'removed') : 'unchanged', detail: `${s.via}: ${cmd}` });
  const rm = (path: string, what: string) => {
    if (!existsSync(path)) return;
    if (!o.dryRun) rmSync(path, { force: true });
    actions.push({ what, action: o.dryRun ? 'would remove' : 'removed', detail: path });
  };
  for (const u of s.units) rm(u, 'the schedule');
  rm(s.key, 'the key');
  rm(`${s.key}.pub`, 'the public key');
  if (existsSync(s.knownHosts) && readFileSync(s.knownHosts, 'utf8').split('\n').some((l) => l.split(/\s+/)[0] === s.hostPattern)) {
    if (!o.dryRun) {
      const kept = readFileSync(s.knownHosts, 'utf8').split('\n').filter((l) => l.split(/\s+/)[0] !== s.hostPattern).join('\n');
      writeFileSync(s.knownHosts, kept, { mode: 0o600 });
    }
    actions.push({ what: 'the pinned host key', action: o.dryRun ? 'would remove' : 'removed', detail: `${s.hostPattern} in ${s.knownHosts}` });
  }
  rm(n.state, 'the enroll record');
  actions.push({ what: 'the backups', action: 'kept', detail: 'STORAGE/HOST is left as it is: remove it yourself when the backups are no longer wanted' });
  return result(0);
}

export type { Target };

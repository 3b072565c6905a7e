// `gatekeeper install`: the original setup's "Remote set-up", done safely.
// Everything is planned and checked first (policy, key, node, sshd's verdict
// on the candidate configuration, lock-out); only then is anything written,
// each file atomically, with the manifest updated before each write.
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { EX_CONFIG, EX_NOPERM, EX_USAGE, GatekeeperError } from '../exit.js';
import { loadPolicy, locatePolicy, parsePolicyText, validatePolicy } from '../policy/load.js';
import type { Policy } from '../policy/schema.js';
import { trustProblem } from '../policy/trust.js';
import { describeKey, fingerprint, parsePublicKey, type PublicKey } from '../sshd/authorized-keys.js';
import { PRINCIPAL_NAME } from '../sshd/principals.js';
import { CA_DEFAULTS, parseCaKey, planCaAdd, planPrincipalInstall, principalsFile, principalsPattern, SSH_KEYGEN } from './ca.js';
import { parseExpires } from '../sshd/expiry.js';
import { authorizedKeysFiles, canonicalPermitRootLogin, firstGlobalSetting, parseSshdConfig } from '../sshd/config.js';
import { fsConfigReader } from '../sshd/files.js';
import { lookupUser } from '../sshd/passwd.js';
import { reloadSshd } from '../sshd/reload.js';
import { effectivePermitRootLogin, effectiveValue, run, sshdEffective, sshdTest, sshdVersion, supportsRestrict, supportsUtcExpiry, type Effective, type MatchSpec } from '../sshd/run.js';
import { findAssets, fillTemplate, PACKAGED_BINARY, type Assets } from './assets.js';
import { applyChange, describeChange, isNoop, type Change } from './changes.js';
import { bundleChanges, bundleFiles, deployBundle, launcherText, removeBundle } from './deploy.js';
import { acquireLock, ensureDir, lstatOrNull, readOrNull } from './fsutil.js';
import { ensureDirGuarded, readGuarded, type Account } from './guarded.js';
import { keyProblem, keysWithoutCommand, findKeyLines, planKeyInstall, type GateLineSpec } from './keys.js';
import { earlierSetting, matchOverrides, planCaSshdChange, planSshdChange, WANTED, type CaSettings, type SshdPlan } from './sshd-plan.js';
import { dirEntry, deployedEntry, fileEntry, makeReport, printReport, reloadEntry, type FileEntry, type KeyEntry, type ReloadEntry } from './report.js';
import { migrateBackups, readState, writeState, type CaState, type InstallState } from './state.js';
import { DEFAULTS } from './defaults.js';
import { planMetricsSchedule, systemdTimer, type MetricsPlan } from './metrics-schedule.js';

export { DEFAULTS };

export interface CommonOptions {
  user: string;
  sshdConfig: string;
  authorizedKeys?: string;
  prefix: string;
  configDir: string;
  sshd: string;
  dryRun: boolean;
  reload: boolean;
  /** Print the ChangeReport (report.ts) on stdout; the human messages go to stderr. */
  json?: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface InstallOptions extends CommonOptions {
  policy: string;
  /** Path of the public key, or '-' for stdin (or, instead, ca + principal). */
  key?: string;
  /** --ca CA.pub: trust this SSH certificate authority for the principals below. */
  ca?: string;
  /** --principal NAME (repeatable): certificate principals that get this call's policy and from. */
  principal?: string[];
  /** The CA file gatekeeper owns (TrustedUserCAKeys); default /etc/ssh/gatekeeper_user_ca.pub. */
  caFile?: string;
  /** Where the per-user principals files go (AuthorizedPrincipalsFile DIR/%u); default /etc/ssh/gatekeeper_principals. */
  principalsDir?: string;
  from?: string[];
  /** --expires WHEN: the key stops working then (OpenSSH's expiry-time). */
  expires?: string;
  /** The current time (a fact, read at the edge); --expires +4h counts from it. */
  now?: number;
  /** Refuse (64) when the key already has a line in authorized_keys: a grant is for a key of its own. */
  newKeyOnly?: string;
  node: string;
  yes: boolean;
  /** Where to put the logrotate rule; default /etc/logrotate.d when logrotate is installed. */
  logrotateDir?: string;
  /** Host name for the printed client command. */
  host?: string;
  /** Keep DIR/gatekeeper.prom fresh (audit --metrics) with a systemd timer or a cron.d entry. */
  metricsDir?: string;
  /** Put the metrics' systemd units here (default /etc/systemd/system, when systemd runs). */
  systemdDir?: string;
  /** Put the metrics' cron.d entry here instead (default /etc/cron.d, when systemd does not run). */
  cronDir?: string;
  /** With metricsDir: the schedule also writes the HTML report (audit --html) to this file. */
  report?: string;
  readStdin?: () => Promise<string>;
  assets?: Assets;
}

/** Characters allowed in paths that end up inside the forced command (run by the user's shell). */
export const SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;

const usage = (m: string) => new GatekeeperError(m, EX_USAGE, 'usage');
const config = (m: string) => new GatekeeperError(m, EX_CONFIG, 'config');

export function checkAbsolute(name: string, p: string | undefined): void {
  if (p !== undefined && (!p.startsWith('/') || p.split('/').includes('..'))) throw usage(`${name} must be an absolute path without '..': ${p}`);
}

async function readKey(o: InstallOptions & { key: string }): Promise<PublicKey> {
  let text: string;
  if (o.key === '-') {
    if (!o.readStdin) throw usage('--key -: no standard input');
    text = await o.readStdin();
  } else {
    try {
      text = readFileSync(o.key, 'utf8');
    } catch (e) {
      throw usage(`--key ${o.key}: ${(e as Error).message}`);
    }
  }
  const key = parsePublicKey(text);
  if ('error' in key) throw usage(`--key: not an OpenSSH public key (${key.error})`);
  const problem = keyProblem(key);
  if (problem) throw config(`refusing the key: ${problem}`);
  return key;
}

/** The policy to install: its name, where the gate will read it, and (if it is not there yet) where to copy it from. */
async function resolvePolicy(o: InstallOptions, assets: Assets): Promise<{ name: string; target: string; source: Buffer | null; policy: Policy; note?: string }> {
  const policyDir = join(o.configDir, 'policies');
  if (o.policy.startsWith('/')) {
    const ext = extname(o.policy);
    const name = basename(o.policy, ext);
    if (!['.yaml', '.yml', '.json'].includes(ext)) throw usage(`--policy ${o.policy}: a policy file ends in .yaml, .yml or .json`);
    const loaded = await loadPolicy(o.policy, { checkTrust: false });
    const target = join(policyDir, name + ext);
    if (o.policy === target) return { name, target, source: null, policy: loaded.policy };
    let existing: string | null = null;
    try {
      existing = locatePolicy(name, policyDir);
    } catch {
      existing = null;
    }
    if (existing) {
      const same = readOrNull(existing)?.equals(readFileSync(o.policy)) ?? false;
      const kept = await loadPolicy(existing, { checkTrust: false });
      return { name, target: existing, source: null, policy: kept.policy, note: same ? undefined : `${existing} already exists and differs from ${o.policy}; keeping the installed one` };
    }
    return { name, target, source: readFileSync(o.policy), policy: loaded.policy };
  }
  try {
    const file = locatePolicy(o.policy, policyDir);
    const loaded = await loadPolicy(file, { checkTrust: false });
    return { name: o.policy, target: file, source: null, policy: loaded.policy };
  } catch (e) {
    if (!(e instanceof GatekeeperError) || e.code !== 'policy-missing') throw e;
  }
  const shipped = [...assets.policies].filter(([file]) => file.replace(/\.(ya?ml|json)$/, '') === o.policy);
  if (shipped.length !== 1) throw config(`policy "${o.policy}" is neither in ${policyDir} nor among the shipped policies (${assets.policiesFrom})`);
  const [file, data] = shipped[0]!;
  const policy = validatePolicy(await parsePolicyText(data.toString('utf8'), file), `${assets.policiesFrom}/${file}`);
  return { name: o.policy, target: join(policyDir, file), source: data, policy };
}

/** The directories `ensureDir(path)` would create, outermost first. */
function missingDirs(path: string): string[] {
  const missing: string[] = [];
  for (let p = path; lstatOrNull(p) === null && p !== dirname(p); p = dirname(p)) missing.unshift(p);
  return missing;
}

/** The node the launcher runs (or the packaged executable) must be as trustworthy as the gate itself. */
function checkNode(node: string, what = '--node'): string {
  checkAbsolute(what, node);
  let real: string;
  try {
    real = realpathSync(node);
    if (!statSync(real).isFile()) throw new Error('not a file');
  } catch (e) {
    throw config(`${what} ${node}: ${(e as Error).message}`);
  }
  const problem = trustProblem(node);
  if (problem) throw config(`refusing ${what} ${node}: ${problem}; install it from the distribution or copy it somewhere root-owned`);
  if (!SAFE_PATH.test(node)) throw config(`${what} ${node}: the path has characters a forced command cannot carry safely`);
  return node;
}

/**
 * What sshd's forced command runs, and what install deploys for it: the npm
 * build deploys its bundle under PREFIX/lib/gatekeeper and a launcher that
 * runs it with `node`; the self-contained executable copies itself to
 * PREFIX/bin/gatekeeper (no launcher, no node); a package's executable
 * (PACKAGED_BINARY) is used where it is, and nothing is copied.
 */
export function planRunner(assets: Assets, prefix: string, node: string): { launcher: string; node: string | null; copyFrom: string | null } {
  const bin = join(prefix, 'bin', 'gatekeeper');
  if (assets.runtime.kind === 'bundle') return { launcher: bin, node: checkNode(node), copyFrom: null };
  if (assets.runtime.file === PACKAGED_BINARY) return { launcher: checkNode(PACKAGED_BINARY, 'the packaged executable'), node: null, copyFrom: null };
  return { launcher: bin, node: null, copyFrom: assets.runtime.file };
}

export function matchSpec(user: string, from: readonly string[] | undefined): MatchSpec {
  const addr = from?.find((f) => !f.includes('/')) ?? '127.0.0.1';
  return { user, host: 'localhost', addr };
}

export function gateCommand(launcher: string, policy: string, configDir: string): string {
  const dir = configDir.replace(/\/+$/, '');
  return `${launcher} gate --policy ${policy}${dir === DEFAULTS.configDir ? '' : ` --policy-dir ${dir}/policies`}`;
}

/** Validate a candidate sshd configuration without touching the real files, and return its effective settings. */
export async function validateSshdCandidate(o: CommonOptions, plans: readonly SshdPlan[], spec: MatchSpec): Promise<{ global: Effective; forUser: Effective }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatekeeper-sshd-'));
  try {
    // An edit of the main file is planned on the text earlier edits left: the last one is the whole result.
    const edits = plans.filter((p): p is Extract<SshdPlan, { kind: 'edit' }> => p.kind === 'edit');
    let text = edits.length ? edits[edits.length - 1]!.text : readFileSync(o.sshdConfig, 'utf8');
    // Our drop-ins sort first in their directory: Include them, in sshd's
    // (byte) order, just before that directory's Include line.
    const dropins = plans.filter((p): p is Extract<SshdPlan, { kind: 'dropin' }> => p.kind === 'dropin').sort((a, b) => Buffer.compare(Buffer.from(basename(a.path)), Buffer.from(basename(b.path))));
    if (dropins.length) {
      const lines = parseSshdConfig(text);
      const before = new Map<number, string>();
      for (const d of dropins) {
        const file = join(dir, basename(d.path));
        writeFileSync(file, d.content, { mode: 0o600 });
        const at = lines.findIndex((l) => l.kw === 'include' && l.raw === d.include.raw);
        before.set(at, `${before.get(at) ?? ''}Include ${file}\n`);
      }
      text = lines.map((l, i) => (before.get(i) ?? '') + l.raw + l.eol).join('');
    }
    const candidate = join(dir, 'sshd_config');
    writeFileSync(candidate, text, { mode: 0o600 });
    const t = await sshdTest(o.sshd, candidate);
    if (!t.ok) throw config(`sshd -t rejects the changed configuration, nothing was changed: ${t.message}`);
    const global = await sshdEffective(o.sshd, candidate);
    const forUser = await sshdEffective(o.sshd, candidate, spec);
    if ('error' in global) throw config(`sshd -T failed on the changed configuration: ${global.error}`);
    if ('error' in forUser) throw config(`sshd -T -C failed on the changed configuration: ${forUser.error}`);
    return { global, forUser };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function explainNotEffective(o: CommonOptions, plan: SshdPlan, global: Effective, forUser: Effective): string {
  const g = effectivePermitRootLogin(global);
  const u = effectivePermitRootLogin(forUser);
  if (g === WANTED) {
    const where = matchOverrides(readFileSync(o.sshdConfig, 'utf8')).map((l) => `${o.sshdConfig}:${l.lineNo}`);
    return `a Match block overrides PermitRootLogin for root (sshd -T -C user=root says ${u})${where.length ? ` at ${where.join(', ')}` : ' (in an included file)'}; change or remove that Match block's PermitRootLogin, then run install again. Nothing was changed.`;
  }
  const where = plan.kind === 'dropin' ? `${plan.path}` : `${plan.path}`;
  return `after the change sshd still reads PermitRootLogin ${g} first (a value obtained before ${where}: check the lines and files sshd reads earlier); nothing was changed.`;
}

const KEY_LOGINS = new Set(['yes', 'prohibit-password']);

/** --ca FILE: one plain public key, which ssh-keygen -l reads with the same fingerprint. */
async function readCa(path: string): Promise<PublicKey> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usage(`--ca ${path}: ${(e as Error).message}`);
  }
  const key = parseCaKey(text);
  if ('error' in key) throw usage(`--ca ${path}: not a CA's public key (${key.error})`);
  const r = await run(SSH_KEYGEN, ['-l', '-f', path]);
  if (r.code !== 0) throw usage(`--ca ${path}: ssh-keygen -l does not read it as a public key: ${(r.error ?? r.stderr ?? r.stdout).trim()}`);
  const fp = fingerprint(key);
  if (!r.stdout.split(/\s+/).includes(fp)) throw usage(`--ca ${path}: ssh-keygen -l says "${r.stdout.trim()}", not ${fp}`);
  return key;
}

/** A root-owned file sshd reads: it (if there) is no link and root's alone, and so is the chain above it. */
function rootFileProblem(path: string): string | null {
  const st = lstatOrNull(path);
  if (st?.isSymbolicLink()) return `${path} is a symlink (not followed)`;
  if (st && !st.isFile()) return `${path} is not a regular file`;
  let at = path;
  while (lstatOrNull(at) === null && at !== dirname(at)) at = dirname(at);
  return trustProblem(at);
}

/** Why sshd's effective settings are not the certificate set-up's, or null. */
export function certSettingsProblem(eff: Effective, s: CaSettings): string | null {
  const problems: string[] = [];
  const ca = effectiveValue(eff, 'trustedusercakeys') ?? 'none';
  const pf = effectiveValue(eff, 'authorizedprincipalsfile') ?? 'none';
  if (s.caFile !== null && ca !== s.caFile) problems.push(`reads TrustedUserCAKeys ${ca}, not ${s.caFile}`);
  if (s.principals !== null && pf !== s.principals) problems.push(`reads AuthorizedPrincipalsFile ${pf}, not ${s.principals}`);
  return problems.length ? problems.join(' and ') : null;
}

const CERT_KEYWORDS = [['trustedusercakeys', 'TrustedUserCAKeys'], ['authorizedprincipalsfile', 'AuthorizedPrincipalsFile']] as const;

interface CertPlan {
  /** The CA file's and the principals file's changes. */
  files: Change[];
  settings: CaSettings;
  sshdPlan: SshdPlan | null;
  sshdChange: Change | null;
  caEntry: { fingerprint: string; action: 'added' | 'unchanged' };
  principalEntries: { name: string; user: string; policy: string; action: 'added' | 'replaced' | 'unchanged' }[];
  /** The manifest's CA record once the files are written. */
  record(prev: CaState | undefined): CaState;
  /** Its sshd part once sshd's configuration is written and confirmed. */
  sshdRecord(prev: CaState['sshd']): CaState['sshd'];
}

/**
 * install --ca: the CA into gatekeeper's CA file, one line per principal into
 * the user's principals file, and (when sshd does not read them yet)
 * TrustedUserCAKeys, AuthorizedPrincipalsFile and ExposeAuthInfo, validated
 * on a candidate together with PermitRootLogin's change.
 */
async function planCertificates(
  o: InstallOptions,
  ca: PublicKey,
  user: { name: string },
  spec: GateLineSpec,
  policy: string,
  state: InstallState,
  prlPlan: SshdPlan | null,
  nowForUser: Effective,
  match: MatchSpec,
  warnings: string[],
): Promise<CertPlan> {
  const prev = state.ca;
  const caFile = o.caFile ?? prev?.caFile ?? CA_DEFAULTS.caFile;
  const dir = o.principalsDir ?? prev?.principalsDir ?? CA_DEFAULTS.principalsDir;
  if (prev && (prev.caFile !== caFile || prev.principalsDir !== dir)) {
    throw usage(`certificates are installed with --ca-file ${prev.caFile} --principals-dir ${prev.principalsDir}; use those (or uninstall --ca first to move them)`);
  }
  const pfile = principalsFile(dir, user.name);
  for (const p of [caFile, pfile]) {
    const problem = rootFileProblem(p);
    if (problem) throw config(`refusing ${p}: ${problem}; sshd trusts what it says, so it and every directory above it must be root's alone. Nothing was changed.`);
  }
  const caBefore = readOrNull(caFile);
  const caPlan = planCaAdd(caBefore?.toString('utf8') ?? '', ca);
  const pBefore = readOrNull(pfile);
  let ptext = pBefore?.toString('utf8') ?? '';
  const names = [...new Set(o.principal ?? [])];
  const plans = names.map((name) => {
    const plan = planPrincipalInstall(ptext, name, spec);
    ptext = plan.text;
    return { name, plan };
  });
  const fp = fingerprint(ca);
  const files: Change[] = [
    { path: caFile, before: caBefore, after: Buffer.from(caPlan.text), mode: 0o644, uid: 0, gid: 0, label: `CA file (TrustedUserCAKeys): ${caPlan.action} ${describeKey(ca)}` },
    { path: pfile, before: pBefore, after: Buffer.from(ptext), mode: 0o644, uid: 0, gid: 0, label: `principals file of ${user.name} (AuthorizedPrincipalsFile): ${plans.map((p) => `${p.plan.action} ${p.name}`).join(', ')}` },
  ];
  const settings: CaSettings = { caFile, principals: principalsPattern(dir) };
  let sshdPlan: SshdPlan | null = null;
  let sshdChange: Change | null = null;
  if (certSettingsProblem(nowForUser, settings) !== null) {
    if (prev?.sshd) throw config(`sshd does not read the certificate settings install wrote into ${prev.sshd.path} (sshd -T -C user=${user.name} ${certSettingsProblem(nowForUser, settings)}): something read earlier overrides them; fix that, or uninstall --ca and install again. Nothing was changed.`);
    const mainBefore = readFileSync(o.sshdConfig, 'utf8');
    const base = prlPlan?.kind === 'edit' ? prlPlan.text : mainBefore;
    const plan = planCaSshdChange(o.sshdConfig, base, settings);
    if (plan.kind === 'dropin') {
      const cur = readOrNull(plan.path);
      if (cur !== null && cur.toString('utf8') !== plan.content) throw config(`${plan.path} exists and is not gatekeeper's; nothing was changed`);
    }
    const changed = new Map<string, string>();
    if (prlPlan) changed.set(prlPlan.path, prlPlan.kind === 'dropin' ? prlPlan.content : prlPlan.text);
    changed.set(plan.path, plan.kind === 'dropin' ? plan.content : plan.text);
    for (const [kw, name] of CERT_KEYWORDS) {
      const want = kw === 'trustedusercakeys' ? settings.caFile : settings.principals;
      const first = firstGlobalSetting(kw, o.sshdConfig, fsConfigReader, undefined, changed);
      if (first && first.value !== want) {
        throw config(`${first.file}:${first.lineNo} sets ${name} ${first.value} and sshd reads it before ${plan.path} (the first value wins): gatekeeper's ${name} would be ignored. Remove that line (or put its CAs and principals in gatekeeper's files), then run install again. Nothing was changed.`);
      }
    }
    const { forUser } = await validateSshdCandidate(o, prlPlan ? [prlPlan, plan] : [plan], match);
    const problem = certSettingsProblem(forUser, settings);
    if (problem) throw config(`with ${plan.path} changed, sshd -T -C user=${user.name} still ${problem} (a Match block for ${user.name}, or a file read earlier); nothing was changed`);
    if (effectiveValue(forUser, 'exposeauthinfo') !== 'yes') warnings.push(`sshd -T -C user=${user.name} says ExposeAuthInfo ${effectiveValue(forUser, 'exposeauthinfo') ?? 'no'}: a value read earlier wins, and the gate's log cannot name the certificate`);
    sshdPlan = plan;
    const label = `sshd ${plan.kind === 'dropin' ? 'drop-in' : 'config'}: TrustedUserCAKeys, AuthorizedPrincipalsFile, ExposeAuthInfo`;
    if (plan.kind === 'dropin') sshdChange = { path: plan.path, before: readOrNull(plan.path), after: Buffer.from(plan.content), mode: 0o644, uid: 0, gid: 0, label };
    else {
      const st = statSync(o.sshdConfig);
      const before = prlPlan?.kind === 'edit' ? Buffer.from(prlPlan.text) : Buffer.from(mainBefore);
      sshdChange = { path: o.sshdConfig, before, after: Buffer.from(plan.text), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, label };
    }
  }
  return {
    files,
    settings,
    sshdPlan,
    sshdChange,
    caEntry: { fingerprint: fp, action: caPlan.action },
    principalEntries: plans.map((p) => ({ name: p.name, user: user.name, policy, action: p.plan.action })),
    record(prevCa) {
      const cas = [...(prevCa?.cas ?? [])];
      if (!cas.some((c) => c.fingerprint === fp)) cas.push({ fingerprint: fp, line: caPlan.line });
      const kept = (prevCa?.principals ?? []).filter((p) => !(p.user === user.name && names.includes(p.name)));
      const written = plans.map((p) => {
        const old = prevCa?.principals.find((x) => x.user === user.name && x.name === p.name);
        // A line install wrote before keeps the admin's line it replaced then.
        const replaced = old && (p.plan.replaced === old.line || p.plan.action === 'unchanged') ? old.replaced : p.plan.replaced;
        return { user: user.name, file: pfile, name: p.name, policy, line: p.plan.line, replaced };
      });
      return { caFile, principalsDir: dir, cas, principals: [...kept, ...written], sshd: prevCa?.sshd ?? null };
    },
    sshdRecord(prevSshd) {
      if (!sshdPlan) return prevSshd;
      return sshdPlan.kind === 'dropin'
        ? { kind: 'dropin', path: sshdPlan.path, main: o.sshdConfig }
        : { kind: 'edit', path: sshdPlan.path, main: o.sshdConfig, written: sshdPlan.written, addedTrailingNewline: sshdPlan.addedTrailingNewline };
    },
  };
}


export async function install(o: InstallOptions): Promise<number> {
  for (const [n, p] of [['--sshd-config', o.sshdConfig], ['--authorized-keys', o.authorizedKeys], ['--prefix', o.prefix], ['--config-dir', o.configDir], ['--sshd', o.sshd], ['--logrotate-dir', o.logrotateDir], ['--metrics-dir', o.metricsDir], ['--systemd-dir', o.systemdDir], ['--cron-dir', o.cronDir], ['--report', o.report]] as const) checkAbsolute(n, p);
  for (const [n, p] of [['--prefix', o.prefix], ['--config-dir', o.configDir]] as const) {
    if (!SAFE_PATH.test(p)) throw usage(`${n} ${p}: use letters, digits and ._+-/ only (the path is part of the forced command)`);
  }
  if (o.metricsDir !== undefined && !SAFE_PATH.test(o.metricsDir)) throw usage(`--metrics-dir ${o.metricsDir}: use letters, digits and ._+-/ only (the path is part of a command line)`);
  if ((o.systemdDir !== undefined || o.cronDir !== undefined || o.report !== undefined) && o.metricsDir === undefined) throw usage('--systemd-dir, --cron-dir and --report go with --metrics-dir');
  if (o.report !== undefined && (!SAFE_PATH.test(o.report) || o.report.endsWith('/'))) throw usage(`--report ${o.report}: name a file, with letters, digits and ._+-/ only (the path is part of a command line)`);
  const caMode = o.ca !== undefined;
  if (caMode === (o.key !== undefined)) throw usage('install needs --key FILE, or --ca CA.pub with --principal NAME (one or the other per call)');
  if (caMode && !o.principal?.length) throw usage('--ca needs --principal NAME (the certificate principal that gets this policy)');
  if (!caMode && (o.principal?.length || o.caFile !== undefined || o.principalsDir !== undefined)) throw usage('--principal, --ca-file and --principals-dir go with --ca');
  if (caMode && o.expires !== undefined) throw usage('--expires is for a key; a certificate carries its own validity (ssh-keygen -s … -V)');
  for (const [n, p] of [['--ca', o.ca], ['--ca-file', o.caFile], ['--principals-dir', o.principalsDir]] as const) checkAbsolute(n, p);
  for (const [n, p] of [['--ca-file', o.caFile], ['--principals-dir', o.principalsDir]] as const) {
    if (p !== undefined && (!SAFE_PATH.test(p) || p.endsWith('/'))) throw usage(`${n} ${p}: use letters, digits and ._+-/ only (the path goes into sshd_config)`);
  }
  for (const name of o.principal ?? []) if (!PRINCIPAL_NAME.test(name)) throw usage(`--principal ${JSON.stringify(name)}: use letters, digits and ._@+=:- only (no blank, no comma), at most 128 characters`);
  let expires: number | undefined;
  if (o.expires !== undefined) {
    const e = parseExpires(o.expires, { now: o.now ?? Date.now() });
    if ('error' in e) throw usage(e.error);
    expires = e.epoch;
  }
  if (!o.dryRun && process.getuid?.() !== 0) throw new GatekeeperError('install must run as root (or use --dry-run)', EX_NOPERM, 'not-root');
  const assets = o.assets ?? findAssets();
  const user = await lookupUser(o.user);
  if (!user) throw config(`no such user: ${o.user}`);
  const key = o.key !== undefined ? await readKey({ ...o, key: o.key }) : null;
  const ca = o.ca !== undefined ? await readCa(o.ca) : null;
  const pol = await resolvePolicy(o, assets);
  const version = await sshdVersion(o.sshd);
  if (expires !== undefined && !supportsUtcExpiry(version)) {
    throw config(`--expires: ${version?.text ?? 'this sshd'} reads expiry-time only in its own time zone (the Z suffix for UTC needs OpenSSH 9.1+) and would reject the line; upgrade OpenSSH, or leave out --expires`);
  }
  if (!existsSync(o.sshdConfig)) throw config(`${o.sshdConfig} does not exist`);
  if (o.logrotateDir && !lstatOrNull(o.logrotateDir)?.isDirectory()) throw usage(`--logrotate-dir ${o.logrotateDir} is not a directory`);

  const prefix = o.prefix.replace(/\/+$/, '') || '/';
  const lib = join(prefix, 'lib', 'gatekeeper');
  const runner = planRunner(assets, prefix, o.node);
  const launcher = runner.launcher;
  const command = gateCommand(launcher, pol.name, o.configDir);
  const akPath = o.authorizedKeys ?? join(user.home, '.ssh', 'authorized_keys');
  // The user's area is hostile ground (guarded.ts): no link of theirs is
  // followed, no file is read that they could not read themselves.
  const account: Account = { uid: user.uid, name: user.name };
  const akBefore = readGuarded(akPath, account)?.data ?? null;
  const keyPlan = key ? planKeyInstall(akBefore?.toString('utf8') ?? '', key, { command, from: o.from, restrict: supportsRestrict(version), expires }) : null;
  if (key && keyPlan && o.newKeyOnly !== undefined && keyPlan.action !== 'added') throw usage(`${akPath} already has a line for ${describeKey(key)}: ${o.newKeyOnly}`);
  const spec = matchSpec(user.name, o.from);

  // What sshd makes of it today.
  const nowForUser = await sshdEffective(o.sshd, o.sshdConfig, spec);
  if ('error' in nowForUser) throw config(`sshd -T -f ${o.sshdConfig} fails, fix the configuration first: ${nowForUser.error}`);
  const warnings: string[] = [];
  const forceCommand = effectiveValue(nowForUser, 'forcecommand');
  if (forceCommand && forceCommand !== 'none') warnings.push(`sshd has ForceCommand ${forceCommand} for ${user.name}: it overrides the key's command=, the gate would never run`);
  const akFiles = authorizedKeysFiles(effectiveValue(nowForUser, 'authorizedkeysfile') ?? '.ssh/authorized_keys', user);
  if (!akFiles.includes(akPath)) warnings.push(`sshd reads ${akFiles.join(' ') || 'no authorized_keys file'} for ${user.name}, not ${akPath}`);

  // sshd_config: root's effective PermitRootLogin must become forced-commands-only.
  let sshdPlan: SshdPlan | null = null;
  const currentPrl = effectivePermitRootLogin(nowForUser) ?? 'prohibit-password';
  if (user.uid === 0 && currentPrl !== WANTED) {
    const plan = planSshdChange(o.sshdConfig, readFileSync(o.sshdConfig, 'utf8'));
    if (plan.kind === 'dropin' && existsSync(plan.path) && readFileSync(plan.path, 'utf8') !== plan.content) {
      throw config(`${plan.path} exists and is not gatekeeper's; nothing was changed`);
    }
    // Where sshd would read PermitRootLogin first once the change is in place.
    const changed = new Map([[plan.path, plan.kind === 'dropin' ? plan.content : plan.text]]);
    const loses = earlierSetting(plan, firstGlobalSetting('permitrootlogin', o.sshdConfig, fsConfigReader, undefined, changed));
    if (loses) throw config(loses);
    const { global, forUser } = await validateSshdCandidate(o, [plan], spec);
    if (effectivePermitRootLogin(forUser) !== WANTED) throw config(explainNotEffective(o, plan, global, forUser));
    sshdPlan = plan;
  }

  const state = readState(o.configDir);
  // Certificates: the CA file, the principals file and sshd's CA settings, checked by sshd with the PermitRootLogin change.
  const certs = ca ? await planCertificates(o, ca, user, { command, from: o.from, restrict: supportsRestrict(version) }, pol.name, state, sshdPlan, nowForUser, spec, warnings) : null;

  // Never lock the admin out.
  const lockedOut: string[] = [];
  const scan = o.authorizedKeys ? [akPath] : akFiles;
  if (user.uid === 0 && sshdPlan && KEY_LOGINS.has(canonicalPermitRootLogin(currentPrl))) {
    for (const f of scan) {
      const text = readOrNull(f)?.toString('utf8') ?? '';
      for (const l of keysWithoutCommand(text)) lockedOut.push(`${f}: ${describeKey(l.key)}`);
    }
  } else if (key && (user.uid !== 0 || KEY_LOGINS.has(canonicalPermitRootLogin(currentPrl)))) {
    for (const l of findKeyLines(akBefore?.toString('utf8') ?? '', key)) {
      if (!l.options.some((x) => x.name.toLowerCase() === 'command')) lockedOut.push(`${akPath}: ${describeKey(l.key)} (this key: it would get the forced command)`);
    }
  }
  if (lockedOut.length && !o.yes) {
    throw new GatekeeperError(
      `refusing: ${user.name} can log in today with these keys, which have no command= and would be shut out:\n  ${[...new Set(lockedOut)].join('\n  ')}\n` +
        `Make sure you have another way in (console, another user with sudo), then run again with --yes. Nothing was changed.`,
      EX_NOPERM,
      'lockout',
    );
  }

  // Plan every file.
  const changes: Change[] = [];
  const files = bundleFiles(assets);
  const bundle = files.length ? bundleChanges(lib, files) : { changed: [], stale: [] };
  if (runner.node !== null) {
    const launcherData = Buffer.from(launcherText(assets.template('launcher.in').toString('utf8'), runner.node, lib));
    changes.push({ path: launcher, before: readOrNull(launcher), after: launcherData, mode: 0o755, uid: 0, gid: 0, label: 'launcher' });
  } else if (runner.copyFrom !== null) {
    changes.push({ path: launcher, before: readOrNull(launcher), after: readFileSync(runner.copyFrom), mode: 0o755, uid: 0, gid: 0, label: 'the gatekeeper executable' });
  }
  if (pol.source) changes.push({ path: pol.target, before: null, after: pol.source, mode: 0o644, uid: 0, gid: 0, label: `policy ${pol.name}` });
  // A daemon policy needs its rsyncd.conf: the sample (the original setup's [system] module) when there is none yet.
  const daemonConf = pol.policy.daemon?.config;
  if (daemonConf && !existsSync(daemonConf) && existsSync(dirname(daemonConf))) {
    changes.push({ path: daemonConf, before: null, after: assets.template('rsyncd.conf'), mode: 0o644, uid: 0, gid: 0, label: 'sample rsyncd.conf for the daemon policy' });
  }
  const logs = [pol.policy.log, pol.policy.transferLog].filter((l): l is string => l !== undefined && l !== 'syslog');
  const rotateDir = o.logrotateDir ?? (existsSync(DEFAULTS.logrotate) && existsSync(DEFAULTS.logrotateDir) ? DEFAULTS.logrotateDir : null);
  let rotatePath: string | null = null;
  if (rotateDir && logs.length) {
    rotatePath = join(rotateDir, 'gatekeeper');
    const known = new Set([...state.logs, ...logs]);
    const owner = user.uid === 0 ? 'root' : user.name;
    const group = user.uid === 0 ? 'root' : String(user.gid);
    const text = fillTemplate(assets.template('logrotate.in').toString('utf8'), {
      LOGS: [...known].sort().join(' '),
      SU: user.uid === 0 ? '' : `    su ${owner} ${group}\n`,
      OWNER: owner,
      GROUP: group,
    });
    changes.push({ path: rotatePath, before: readOrNull(rotatePath), after: Buffer.from(text), mode: 0o644, uid: 0, gid: 0, label: 'logrotate rule' });
  }
  // The metrics: a timer (or cron entry) running `audit --metrics --output DIR/gatekeeper.prom`.
  let metrics: MetricsPlan | null = null;
  if (o.metricsDir !== undefined) {
    const dir = o.configDir.replace(/\/+$/, '');
    metrics = planMetricsSchedule({ metricsDir: o.metricsDir, systemdDir: o.systemdDir, cronDir: o.cronDir, report: o.report }, launcher, dir === DEFAULTS.configDir ? '' : ` --policy-dir ${dir}/policies`, assets);
    changes.push(...metrics.changes);
  }
  const akDirMissing = lstatOrNull(dirname(akPath)) === null;
  if (key && keyPlan) changes.push({ path: akPath, before: akBefore, after: Buffer.from(keyPlan.text), mode: 0o600, uid: user.uid, gid: user.gid, label: `authorized_keys of ${user.name}: ${keyPlan.action} ${describeKey(key)}`, account });
  if (certs) changes.push(...certs.files);
  let sshdChange: Change | null = null;
  if (sshdPlan) {
    sshdChange =
      sshdPlan.kind === 'dropin'
        ? { path: sshdPlan.path, before: readOrNull(sshdPlan.path), after: Buffer.from(sshdPlan.content), mode: 0o644, uid: 0, gid: 0, label: `sshd drop-in: PermitRootLogin ${WANTED}` }
        : (() => {
            const st = statSync(o.sshdConfig);
            return { path: o.sshdConfig, before: readOrNull(o.sshdConfig), after: Buffer.from(sshdPlan.text), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, label: `sshd_config: PermitRootLogin ${WANTED}` };
          })();
    changes.push(sshdChange);
  }
  const caSshdChange = certs?.sshdChange ?? null;
  if (caSshdChange) changes.push(caSshdChange);
  const pending = changes.filter((c) => !isNoop(c));
  const client = clientCommand(pol.policy, o.host ?? hostname(), o.key === undefined || o.key === '-' ? null : o.key, o.user);
  // With --json, stdout carries the report alone.
  const say = o.json ? o.err : o.out;
  // The account of every file install manages (--json): the bundle, then the planned changes.
  const fileEntries: FileEntry[] = [
    ...files.map((f) => deployedEntry(join(lib, f.rel), bundle.changed.includes(f.rel), 'bundle')),
    ...bundle.stale.map((rel): FileEntry => ({ path: join(lib, rel), type: 'file', action: 'removed', what: 'stale bundle file' })),
    // The executable needs no bundle: one an earlier install deployed goes.
    ...(files.length ? [] : state.deployed.filter((p) => existsSync(p)).map((path): FileEntry => ({ path, type: 'file', action: 'removed', what: 'bundle an earlier install deployed' }))),
    ...changes.map(fileEntry),
  ];
  const keyEntries: KeyEntry[] = key && keyPlan ? [{ fingerprint: describeKey(key).split(' ')[1] ?? '', policy: pol.name, action: keyPlan.action }] : [];
  const extra = certs ? { cas: [certs.caEntry], principals: certs.principalEntries } : {};

  if (o.dryRun) {
    say(`gatekeeper install --dry-run: nothing was changed.\n`);
    if (bundle.changed.length || bundle.stale.length) say(`# would deploy ${bundle.changed.length} file(s) to ${lib}${bundle.stale.length ? ` and remove ${bundle.stale.length} stale file(s)` : ''}\n`);
    const dirs = [join(o.configDir, 'policies'), ...logs.map((l) => dirname(l))].filter((d) => !existsSync(d));
    for (const d of dirs) say(`# would create directory ${d}\n`);
    if (akDirMissing && key) say(`# would create directory ${dirname(akPath)} (0700, ${user.name})\n`);
    if (metrics && !existsSync(o.metricsDir!)) say(`# would create directory ${o.metricsDir} (0755)\n`);
    if (o.report !== undefined && !existsSync(dirname(o.report))) say(`# would create directory ${dirname(o.report)} (0755)\n`);
    for (const c of pending) say(describeChange(c));
    if (sshdPlan || certs?.sshdPlan) say(`# would validate with ${o.sshd} -t and reload sshd${o.reload ? '' : ' (skipped: --no-reload)'}\n`);
    if (metrics?.activate) say(`# would run systemctl daemon-reload and systemctl enable --now gatekeeper-metrics.timer${o.reload ? '' : ' (skipped: --no-reload)'}\n`);
    for (const w of warnings) o.err(`gatekeeper: warning: ${w}\n`);
    if (lockedOut.length) o.err(`gatekeeper: warning (--yes given): keys that would be shut out:\n  ${lockedOut.join('\n  ')}\n`);
    say(`\nClient side:\n  ${client}\n`);
    if (o.json) {
      // Every directory install would create (the whole missing chain, as ensureDir makes it).
      const wanted = [o.configDir, join(o.configDir, 'policies'), ...(runner.node !== null || runner.copyFrom !== null ? [dirname(launcher)] : []), ...files.map((f) => dirname(join(lib, f.rel))), ...logs.map((l) => dirname(l)), ...(key ? [dirname(akPath)] : [])];
      if (sshdPlan?.kind === 'dropin') wanted.push(dirname(sshdPlan.path));
      if (certs) wanted.push(...certs.files.map((c) => dirname(c.path)), ...(certs.sshdPlan?.kind === 'dropin' ? [dirname(certs.sshdPlan.path)] : []));
      if (metrics) wanted.push(o.metricsDir!, ...(o.report !== undefined ? [dirname(o.report)] : []), ...metrics.changes.map((c) => dirname(c.path)));
      const dirEntries = [...new Set(wanted.flatMap(missingDirs))].map((d) => dirEntry(d, 'directory'));
      o.out(printReport({ ...makeReport('install', true, [...dirEntries, ...fileEntries], keyEntries, reloadEntry(sshdPlan !== null || caSshdChange !== null, 'skipped')), ...extra }));
    }
    return 0;
  }

  const configDirMade = ensureDir(o.configDir, 0o755);
  const releaseLock = acquireLock(join(o.configDir, '.install.lock'));
  const report: string[] = [];
  const madeDirs: string[] = [...configDirMade];
  let reloaded: ReloadEntry = reloadEntry(sshdPlan !== null || caSshdChange !== null, o.reload ? null : 'skipped');
  try {
    const fresh = readState(o.configDir);
    const save = () => writeState(o.configDir, fresh);
    fresh.createdDirs.push(...configDirMade);
    const dirsBefore = fresh.createdDirs.length;
    migrateBackups(o.configDir, fresh, (m) => warnings.push(m));
    save();
    // 1. Deploy: the bundle, then the launcher that runs it (the npm build);
    // the executable needs no bundle, and one an earlier install deployed goes.
    if (files.length) {
      const dep = deployBundle(lib, files);
      fresh.deployed = [...new Set([...fresh.deployed.filter((p) => existsSync(p)), ...dep.written])];
      fresh.createdDirs.push(...dep.createdDirs);
      if (bundle.changed.length || bundle.stale.length) report.push(`deployed ${bundle.changed.length} file(s) to ${lib}`);
    } else if (fresh.deployed.length) {
      removeBundle(lib, fresh.deployed);
      fresh.deployed = [];
      report.push(`removed the bundle an earlier install deployed under ${lib}`);
    }
    if (runner.node !== null || runner.copyFrom !== null) fresh.createdDirs.push(...ensureDir(dirname(launcher), 0o755));
    save();
    // 2. Policy directory, policy, log directories.
    fresh.createdDirs.push(...ensureDir(join(o.configDir, 'policies'), 0o755));
    for (const l of logs) {
      const made = ensureDir(dirname(l), 0o750, user.uid, user.gid);
      fresh.createdDirs.push(...made);
      if (made.length) report.push(`created ${dirname(l)} (0750, ${user.name})`);
    }
    fresh.logs = [...new Set([...fresh.logs, ...logs])];
    // 3. authorized_keys needs ~/.ssh (0700, owned by the user: StrictModes).
    if (key) fresh.createdDirs.push(...ensureDirGuarded(dirname(akPath), account, 0o700, user.uid, user.gid));
    // The CA file's and the principals files' directories: root's, 0755 (sshd reads them as root).
    if (certs) for (const c of certs.files) fresh.createdDirs.push(...ensureDir(dirname(c.path), 0o755));
    // The metrics directory node_exporter reads, and where the timer or cron entry goes.
    if (metrics) {
      for (const d of [o.metricsDir!, ...(o.report !== undefined ? [dirname(o.report)] : []), ...metrics.changes.map((c) => dirname(c.path))]) fresh.createdDirs.push(...ensureDir(d, 0o755));
      fresh.metrics = { output: metrics.output, kind: metrics.kind, activated: metrics.activate && o.reload, ...(o.report !== undefined ? { report: o.report } : {}) };
    }
    save();
    for (const c of changes) {
      if (c === sshdChange || c === caSshdChange) continue;
      if (isNoop(c)) continue;
      applyChange(c, fresh, save, o.configDir);
      report.push(`changed ${c.path} (${c.label})`);
    }
    // The gate must accept the installed policy as it will find it.
    await loadPolicy(pol.name, { policyDir: join(o.configDir, 'policies'), checkTrust: true });
    if (key && keyPlan) {
      const fp = describeKey(key).split(' ')[1] ?? '';
      fresh.keys = fresh.keys.filter((k) => !(k.file === akPath && k.fingerprint === fp));
      if (keyPlan.action !== 'unchanged' || !state.keys.some((k) => k.file === akPath && k.fingerprint === fp)) {
        fresh.keys.push({ file: akPath, user: user.name, policy: pol.name, fingerprint: fp, line: keyPlan.line, replaced: keyPlan.replaced, addedTrailingNewline: keyPlan.addedTrailingNewline });
      } else {
        const old = state.keys.find((k) => k.file === akPath && k.fingerprint === fp);
        if (old) fresh.keys.push(old);
      }
    }
    if (certs) fresh.ca = certs.record(fresh.ca);
    save();
    if (metrics?.activate) report.push(o.reload ? await systemdTimer('enable') : 'gatekeeper-metrics.timer not enabled (--no-reload)');
    // 4. sshd_config, validated before (above) and after it is in place:
    // PermitRootLogin's change and the certificates' settings together.
    const sshdWrites = [sshdChange, caSshdChange].filter((c): c is Change => c !== null);
    if (sshdWrites.length) {
      for (const p of [sshdPlan, certs?.sshdPlan ?? null]) if (p?.kind === 'dropin') fresh.createdDirs.push(...ensureDir(dirname(p.path), 0o755));
      for (const c of sshdWrites) applyChange(c, fresh, save, o.configDir);
      const t = await sshdTest(o.sshd, o.sshdConfig);
      const eff = await sshdEffective(o.sshd, o.sshdConfig, spec);
      const problem = !t.ok
        ? `-t fails: ${t.message}`
        : 'error' in eff
          ? `-T fails: ${eff.error}`
          : sshdPlan && effectivePermitRootLogin(eff) !== WANTED
            ? `-T says PermitRootLogin ${effectivePermitRootLogin(eff)}`
            : certs?.sshdPlan
              ? certSettingsProblem(eff, certs.settings)
              : null;
      if (problem) {
        // Put the previous bytes back; sshd has not been reloaded.
        for (const c of [...sshdWrites].reverse()) applyChange({ ...c, before: c.after, after: c.before }, fresh, save, o.configDir);
        throw config(`after writing ${sshdWrites.map((c) => c.path).join(' and ')}, sshd ${problem}; restored it, sshd was not reloaded`);
      }
      if (sshdPlan && sshdChange) {
        fresh.sshd =
          sshdPlan.kind === 'dropin'
            ? { kind: 'dropin', path: sshdPlan.path, main: o.sshdConfig }
            : { kind: 'edit', path: o.sshdConfig, main: o.sshdConfig, mode: sshdPlan.mode, original: sshdPlan.original, written: sshdPlan.written, addedTrailingNewline: sshdPlan.addedTrailingNewline };
      }
      if (certs && fresh.ca) fresh.ca.sshd = certs.sshdRecord(fresh.ca.sshd);
      save();
      for (const c of sshdWrites) report.push(`changed ${c.path} (${c.label}; sshd -t and sshd -T -C user=${user.name} confirm)`);
      if (o.reload) {
        const eff2 = await sshdEffective(o.sshd, o.sshdConfig);
        const pidFile = 'error' in eff2 ? undefined : effectiveValue(eff2, 'pidfile');
        const r = await reloadSshd({ pidFile, sshd: o.sshd });
        reloaded = reloadEntry(true, r);
        report.push(r.how === 'systemd' ? `reloaded sshd (systemctl reload ${r.unit})` : r.how === 'sighup' ? `reloaded sshd (SIGHUP to pid ${r.pid})` : `did not reload sshd: ${r.why}`);
      } else report.push('sshd not reloaded (--no-reload): it applies the change when it next starts or reloads');
    }
    madeDirs.push(...fresh.createdDirs.slice(dirsBefore));
  } finally {
    releaseLock();
  }
  for (const w of warnings) o.err(`gatekeeper: warning: ${w}\n`);
  if (pol.note) o.err(`gatekeeper: note: ${pol.note}\n`);
  if (!report.length && madeDirs.length) report.push(`created ${[...new Set(madeDirs)].join(', ')}`);
  say(report.length ? `${report.join('\n')}\n` : 'nothing to change: already installed\n');
  say(`forced command: ${command}\n\nClient side:\n  ${client}\n`);
  if (o.json) o.out(printReport({ ...makeReport('install', false, [...[...new Set(madeDirs)].map((d) => dirEntry(d, 'directory')), ...fileEntries], keyEntries, reloaded), ...extra }));
  return 0;
}

/** The original setup's client command, adapted to the policy. */
export function clientCommand(policy: Policy, host: string, keyFile: string | null, user: string): string {
  const key = keyFile ? keyFile.replace(/\.pub$/, '') : 'PRIVATE_KEY';
  const e = `-e "ssh -i ${key}"`;
  const short = host.split('.')[0] || host;
  if (policy.daemon) return `rsync ${e} -avzx --numeric-ids --delete --progress ${user}@${host}::MODULE/ /backups/${short}/`;
  const root = policy.root.endsWith('/') ? policy.root : `${policy.root}/`;
  if (policy.access === 'write-only') return `rsync ${e} -avz --numeric-ids ${policy.delete ? '--delete ' : ''}/path/to/data/ ${user}@${host}:${root}`;
  return `rsync ${e} -avzx --numeric-ids --delete --progress ${user}@${host}:${root} /backups/${short}/`;
}

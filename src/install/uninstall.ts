// `gatekeeper uninstall`: remove exactly what install added, as recorded in
// the manifest. A file that still has the bytes install last wrote gets its
// original bytes (and mode, owner) back; a file someone changed since is only
// edited surgically — the gate's line, the lines install wrote — and anything
// that is no longer what install wrote is left alone with a warning.
import { existsSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EX_CONFIG, EX_USAGE, GatekeeperError } from '../exit.js';
import { fingerprint, parseLine, parsePublicKey } from '../sshd/authorized-keys.js';
import { isExpired, lineExpiry } from '../sshd/expiry.js';
import { reloadSshd } from '../sshd/reload.js';
import { effectiveValue, sshdEffective, sshdTest } from '../sshd/run.js';
import { applyChange, describeChange, forgetFile, isNoop, type Change } from './changes.js';
import { removeBundle } from './deploy.js';
import { acquireLock, readOrNull } from './fsutil.js';
import { readGuarded, type Account } from './guarded.js';
import { lookupUser } from '../sshd/passwd.js';
import { CACHE_DIR } from '../paths.js';
import { checkAbsolute, DEFAULTS, type CommonOptions } from './install.js';
import { planKeyRemoval } from './keys.js';
import { caDropInContent, caSettingLines, planCaSshdChange, planSshdRevert, type CaSettings } from './sshd-plan.js';
import { planCaRemove, planPrincipalRemoval, principalsPattern } from './ca.js';
import { systemdTimer } from './metrics-schedule.js';
import { fileEntry, makeReport, printReport, reloadEntry, type FileEntry, type ReloadEntry } from './report.js';
import { reloadAfter, uninstallRevokedKeys } from './revoked-keys.js';
import { backupDir, migrateBackups, readBackup, readState, sha256, statePath, writeState, type CaState, type InstallState } from './state.js';

export interface UninstallOptions extends CommonOptions {
  /** Public key file whose gate line goes; or all. */
  key?: string;
  /** Certificate principals (of --user) whose principals lines install --ca wrote go. */
  principal?: string[];
  /** A CA public key install --ca added: it leaves the CA file. */
  ca?: string;
  /** Every recorded key whose expiry-time has passed. */
  expired?: boolean;
  /** The current time (a fact, read at the edge), for --expired. */
  now?: number;
  all: boolean;
  /** Take out the RevokedKeys line install --revoked-keys wrote (the list stays); --all does too. */
  revokedKeys?: boolean;
  readStdin?: () => Promise<string>;
}

const fail = (m: string, code = EX_CONFIG) => new GatekeeperError(m, code, 'config');

interface Restore {
  configDir: string;
  warn: (m: string) => void;
  /** The file is in this account's area: read, written and removed through guarded.ts. */
  account?: Account;
  /** Its mode and owner now (the guarded read's), when account is set. */
  st?: { mode: number; uid: number; gid: number } | null;
}

/** What restoring `path` to its pre-install state means, given its wanted surgical result. */
function restoreOrEdit(state: InstallState, path: string, current: Buffer | null, surgical: Buffer | null, allGone: boolean, label: string, r: Restore): Change | null {
  const rec = state.files[path];
  const st = r.account ? r.st ?? null : existsSync(path) ? statSync(path) : null;
  const keep = { mode: st ? st.mode & 0o7777 : 0o600, uid: st?.uid ?? 0, gid: st?.gid ?? 0, ...(r.account ? { account: r.account } : {}) };
  if (rec && allGone && current !== null && sha256(current) === rec.sha256) {
    // Nothing else changed the file since install: the original bytes come back.
    if (!rec.existed) return { path, before: current, after: null, ...keep, label: `${label} (remove: install created it)` };
    const original = readBackup(r.configDir, rec, r.warn);
    if (original) return { ...keep, path, before: current, after: original, mode: rec.mode ?? keep.mode, uid: rec.uid ?? keep.uid, gid: rec.gid ?? keep.gid, label: `${label} (original bytes restored)` };
  }
  if (surgical === null || current === null || surgical.equals(current)) return null;
  return { path, before: current, after: surgical, ...keep, label };
}

interface CertRemoval {
  /** The principals files' and the CA file's changes. */
  files: Change[];
  /** The certificates' sshd settings: the drop-in rewritten or removed, or the main file's block. */
  sshdChange: Change | null;
  /** The main file with the certificates' block out (--all reverts PermitRootLogin in the same file on top of it). */
  mainText: { path: string; text: Buffer } | null;
  /** Record what remains, once the files are written. */
  commit(ca: CaState): void;
}

/**
 * uninstall --principal / --ca: take out the lines install wrote; a file
 * nothing else changed gets its original bytes back (or goes, when install
 * created it). sshd's settings follow from what remains (caSettingLines):
 * TrustedUserCAKeys goes with the last CA, AuthorizedPrincipalsFile only
 * once no CA is left either (a trusted CA without it would accept any
 * certificate naming the user), ExposeAuthInfo with both.
 */
function planCertRemoval(state: InstallState, caState: CaState, selP: CaState['principals'], selC: CaState['cas'], r: Restore): CertRemoval {
  const files: Change[] = [];
  const restP = caState.principals.filter((p) => !selP.includes(p));
  const restC = caState.cas.filter((c) => !selC.includes(c));
  for (const file of new Set(selP.map((p) => p.file))) {
    const current = readOrNull(file);
    let text = current?.toString('utf8') ?? '';
    const mine = selP.filter((x) => x.file === file);
    for (const p of mine) {
      const rm = planPrincipalRemoval(text, p.line, p.replaced);
      if (!rm.changed) r.warn(`${file}: the line for principal ${p.name} is no longer what install wrote; left as it is`);
      text = rm.text;
    }
    const c = restoreOrEdit(state, file, current, Buffer.from(text), !restP.some((x) => x.file === file), `principals file: removed ${mine.map((p) => p.name).join(', ')}`, r);
    if (c) files.push(c);
  }
  if (selC.length) {
    const current = readOrNull(caState.caFile);
    let text = current?.toString('utf8') ?? '';
    for (const c of selC) {
      const key = parsePublicKey(c.line);
      const rm = 'error' in key ? { text, changed: false } : planCaRemove(text, key);
      if (!rm.changed) r.warn(`${caState.caFile}: CA ${c.fingerprint} is not there any more`);
      text = rm.text;
    }
    const c = restoreOrEdit(state, caState.caFile, current, Buffer.from(text), restC.length === 0, `CA file: removed ${selC.map((x) => x.fingerprint).join(', ')}`, r);
    if (c) files.push(c);
  }
  const settings: CaSettings = { caFile: restC.length ? caState.caFile : null, principals: restC.length || restP.length ? principalsPattern(caState.principalsDir) : null };
  const lines = caSettingLines(settings);
  const label = `sshd ${caState.sshd?.kind === 'edit' ? 'config' : 'drop-in'}: certificate settings ${lines.length ? `now ${lines.map((l) => l.split(' ')[0]).join(', ')}` : 'removed'}`;
  let sshdChange: Change | null = null;
  let mainText: CertRemoval['mainText'] = null;
  let sshd = caState.sshd;
  const s = caState.sshd;
  if (s?.kind === 'dropin') {
    const current = readOrNull(s.path);
    const rec = state.files[s.path];
    if (current !== null && rec && sha256(current) !== rec.sha256) r.warn(`${s.path} was changed since install; left as it is`);
    else if (lines.length === 0) {
      sshdChange = restoreOrEdit(state, s.path, current, null, true, label, r);
      sshd = null;
    } else {
      const want = Buffer.from(caDropInContent(settings));
      if (current !== null && !current.equals(want)) sshdChange = { path: s.path, before: current, after: want, mode: 0o644, uid: 0, gid: 0, label };
    }
  } else if (s?.kind === 'edit') {
    const current = readOrNull(s.path);
    const reverted = current === null ? null : planSshdRevert(current.toString('utf8'), { mode: 'inserted', original: null, written: s.written, addedTrailingNewline: s.addedTrailingNewline });
    if (reverted === null) r.warn(`${s.path}: the certificate settings install wrote are no longer there as written; left as it is`);
    else {
      let text = reverted;
      if (lines.length) {
        const plan = planCaSshdChange(s.path, reverted, settings, undefined, 'main');
        if (plan.kind === 'edit') {
          text = plan.text;
          sshd = { ...s, written: plan.written, addedTrailingNewline: plan.addedTrailingNewline };
        }
      } else sshd = null;
      mainText = { path: s.path, text: Buffer.from(text) };
      const prlHere = state.sshd?.kind === 'edit' && state.sshd.path === s.path;
      sshdChange = restoreOrEdit(state, s.path, current, Buffer.from(text), lines.length === 0 && !prlHere, label, r);
    }
  }
  return {
    files,
    sshdChange,
    mainText,
    commit(ca) {
      ca.principals = restP;
      ca.cas = restC;
      ca.sshd = sshd;
    },
  };
}

export async function uninstall(o: UninstallOptions): Promise<number> {
  for (const [n, p] of [['--sshd-config', o.sshdConfig], ['--authorized-keys', o.authorizedKeys], ['--prefix', o.prefix], ['--config-dir', o.configDir], ['--sshd', o.sshd]] as const) checkAbsolute(n, p);
  checkAbsolute('--ca', o.ca);
  const certs = Boolean(o.principal?.length) || o.ca !== undefined;
  if (!o.all && !o.key && !o.expired && !certs && !o.revokedKeys) throw new GatekeeperError('uninstall needs --key FILE, --principal NAME, --ca FILE, --expired, --revoked-keys or --all', EX_USAGE, 'usage');
  if (o.revokedKeys && (o.key || o.expired || certs)) throw new GatekeeperError('uninstall: --revoked-keys goes alone (or with --all)', EX_USAGE, 'usage');
  if (o.expired && (o.key || o.all || certs)) throw new GatekeeperError('uninstall: --expired goes alone (not with --key, --principal, --ca or --all)', EX_USAGE, 'usage');
  if (!o.dryRun && process.getuid?.() !== 0) throw new GatekeeperError('uninstall must run as root (or use --dry-run)', 77, 'not-root');
  let state = readState(o.configDir);
  // With --json, stdout carries the report alone.
  const say = o.json ? o.err : o.out;
  const nothing = (why: string): number => {
    say(`nothing to uninstall: ${why}\n`);
    if (o.json) o.out(printReport(makeReport('uninstall', o.dryRun, [], [], reloadEntry(false, null))));
    return 0;
  };
  if (!existsSync(statePath(o.configDir))) return nothing(`no ${statePath(o.configDir)}`);
  // RevokedKeys first, a record of its own: the rest of uninstall reads the state it leaves.
  const rkReport: string[] = [];
  const rkWarnings: string[] = [];
  const hadRevokedKeys = state.revokedKeys !== undefined;
  const rk = o.revokedKeys || o.all ? await uninstallRevokedKeys(o, rkReport, (m) => void rkWarnings.push(m)) : { entries: [], changed: false, diff: '' };
  if (o.revokedKeys && !o.all) {
    if (!hadRevokedKeys) return nothing(`no RevokedKeys recorded in ${statePath(o.configDir)}`);
    let reloaded = reloadEntry(rk.changed, o.dryRun ? 'skipped' : null);
    if (o.dryRun) say(`gatekeeper uninstall --dry-run: nothing was changed.\n${rk.diff}`);
    else if (rk.changed) reloaded = await reloadAfter(o, rkReport);
    for (const w of rkWarnings) o.err(`gatekeeper: warning: ${w}\n`);
    if (!o.dryRun) say(`${rkReport.join('\n')}\n`);
    if (o.json) o.out(printReport(makeReport('uninstall', o.dryRun, rk.entries, [], reloaded)));
    return 0;
  }
  if (hadRevokedKeys && !o.dryRun) state = readState(o.configDir);
  let fp: string | null = null;
  if (o.key) {
    const text = o.key === '-' ? await (o.readStdin?.() ?? Promise.resolve('')) : readFileSync(o.key, 'utf8');
    const key = parsePublicKey(text);
    if ('error' in key) throw new GatekeeperError(`--key: not an OpenSSH public key (${key.error})`, EX_USAGE, 'usage');
    fp = fingerprint(key);
  }
  const fact = { now: o.now ?? Date.now() };
  const hasExpired = (line: string): boolean => {
    const l = parseLine(line);
    const e = l.kind === 'key' ? lineExpiry(l.options) : null;
    return e !== null && 'epoch' in e && isExpired(e.epoch, fact);
  };
  const selected = state.keys.filter((k) => (o.all || (o.expired ? hasExpired(k.line) : fp !== null && k.fingerprint === fp)) && (!o.authorizedKeys || k.file === o.authorizedKeys));
  let caFp: string | null = null;
  if (o.ca !== undefined) {
    const ca = parsePublicKey(readFileSync(o.ca, 'utf8'));
    if ('error' in ca) throw new GatekeeperError(`--ca: not an OpenSSH public key (${ca.error})`, EX_USAGE, 'usage');
    caFp = fingerprint(ca);
  }
  const caState = state.ca;
  const selPrincipals = caState?.principals.filter((p) => o.all || (p.user === o.user && (o.principal ?? []).includes(p.name))) ?? [];
  const selCas = caState?.cas.filter((c) => o.all || c.fingerprint === caFp) ?? [];
  if (certs && !o.key && selPrincipals.length === 0 && selCas.length === 0) {
    return nothing(`${[...(o.principal ?? []).map((n) => `no principal ${n} of ${o.user}`), ...(caFp ? [`no CA ${caFp}`] : [])].join(', ')} recorded in ${statePath(o.configDir)}`);
  }
  if (!o.all && !certs && selected.length === 0) return nothing(o.expired ? `no expired gate line recorded in ${statePath(o.configDir)}` : `no gate line for ${fp} recorded in ${statePath(o.configDir)}`);
  const changes: Change[] = [];
  const warnings: string[] = [...rkWarnings];
  const warn = (m: string) => void (warnings.includes(m) || warnings.push(m));
  const plain: Restore = { configDir: o.configDir, warn };
  // authorized_keys, one file at a time (several keys may share one), each
  // in its user's area: hostile ground when the user is not root (guarded.ts).
  for (const file of [...new Set(selected.map((k) => k.file))]) {
    const name = selected.find((k) => k.file === file)!.user;
    const entry = await lookupUser(name);
    if (!entry) throw fail(`${file}: its user ${name} no longer exists; take the gate's line out by hand`);
    const account: Account = { uid: entry.uid, name: entry.name };
    const found = readGuarded(file, account);
    const current = found?.data ?? null;
    let text = current?.toString('utf8') ?? '';
    for (const k of selected.filter((x) => x.file === file)) {
      const r = planKeyRemoval(text, k.line, k.replaced, k.addedTrailingNewline);
      if (!r.changed) warn(`${file}: the gate's line for ${k.fingerprint} is no longer what install wrote; left as it is`);
      text = r.text;
    }
    const remaining = state.keys.filter((k) => k.file === file && !selected.includes(k));
    const c = restoreOrEdit(state, file, current, Buffer.from(text), remaining.length === 0, `authorized_keys: removed the gate's line(s)`, { ...plain, account, st: found });
    if (c) changes.push(c);
  }
  // Certificates: the principals lines, the CAs, and the sshd settings that follow from what remains.
  const ca = caState && (selPrincipals.length || selCas.length) ? planCertRemoval(state, caState, selPrincipals, selCas, plain) : null;
  if (ca) changes.push(...ca.files);
  let sshdChange: Change | null = null;
  if (o.all && state.sshd) {
    const s = state.sshd;
    const current = readOrNull(s.path);
    const base = ca?.mainText && s.kind === 'edit' && s.path === ca.mainText.path ? ca.mainText.text : current;
    if (s.kind === 'dropin') {
      if (current !== null && state.files[s.path] && sha256(current) !== state.files[s.path]!.sha256) warnings.push(`${s.path} was changed since install; left as it is`);
      else sshdChange = restoreOrEdit(state, s.path, current, null, true, 'sshd drop-in', plain);
    } else {
      const reverted = base === null ? null : planSshdRevert(base.toString('utf8'), s);
      if (reverted === null && !(current && state.files[s.path] && sha256(current) === state.files[s.path]!.sha256)) warnings.push(`${s.path}: the PermitRootLogin line install wrote is gone; left as it is`);
      sshdChange = restoreOrEdit(state, s.path, current, reverted === null ? null : Buffer.from(reverted), true, 'sshd_config: PermitRootLogin restored', plain);
    }
    if (sshdChange) changes.push(sshdChange);
  }
  // The certificates' sshd change, unless the main file's revert above already carries it.
  const caSshdChange = ca?.sshdChange && !(sshdChange && sshdChange.path === ca.sshdChange.path) ? ca.sshdChange : null;
  if (caSshdChange) changes.push(caSshdChange);
  const launcher = join(o.prefix, 'bin', 'gatekeeper');
  const lib = join(o.prefix, 'lib', 'gatekeeper');
  if (o.all) {
    for (const [path, rec] of Object.entries(state.files)) {
      if (changes.some((c) => c.path === path) || selected.some((k) => k.file === path) || path === state.sshd?.path) continue;
      const current = readOrNull(path);
      if (current === null) continue;
      if (sha256(current) !== rec.sha256) {
        warnings.push(`${path} was changed since install; left as it is`);
        continue;
      }
      const c = restoreOrEdit(state, path, current, null, true, path === launcher ? 'launcher' : 'installed file', plain);
      if (c) changes.push(c);
    }
  }
  const pending = changes.filter((c) => !isNoop(c));
  // The account for --json: every planned change, then the bundle files that go with --all.
  const fileEntries: FileEntry[] = [
    ...rk.entries,
    ...changes.map(fileEntry),
    ...(o.all ? state.deployed.filter((p) => p.startsWith(`${lib}/`) && existsSync(p)).map((path): FileEntry => ({ path, type: 'file', action: 'removed', what: 'bundle' })) : []),
    ...(o.all && state.metrics && existsSync(state.metrics.output) ? [{ path: state.metrics.output, type: 'file' as const, action: 'removed' as const, what: 'metrics file' }] : []),
  ];
  const keyEntries = selected.map((k) => ({ fingerprint: k.fingerprint, policy: k.policy, action: 'removed' as const }));
  const sshdWrites = [caSshdChange, sshdChange].filter((c): c is Change => c !== null && !isNoop(c));
  const sshdNeedsReload = sshdWrites.length > 0 || rk.changed;
  const extra = ca ? { cas: selCas.map((c) => ({ fingerprint: c.fingerprint, action: 'removed' as const })), principals: selPrincipals.map((p) => ({ name: p.name, user: p.user, policy: p.policy, action: 'removed' as const })) } : {};

  if (o.dryRun) {
    say(`gatekeeper uninstall --dry-run: nothing was changed.\n${rk.diff}`);
    for (const c of pending) say(describeChange(c));
    if (o.all && state.deployed.length) say(`# would remove ${state.deployed.length} deployed file(s) under ${lib}\n`);
    if (o.all && state.metrics) say(`# would ${state.metrics.activated ? 'disable gatekeeper-metrics.timer and ' : ''}remove ${state.metrics.output}\n`);
    for (const w of warnings) o.err(`gatekeeper: warning: ${w}\n`);
    if (o.json) o.out(printReport({ ...makeReport('uninstall', true, fileEntries, keyEntries, reloadEntry(sshdNeedsReload, 'skipped')), ...extra }));
    return 0;
  }

  const release = acquireLock(join(o.configDir, '.install.lock'));
  const report: string[] = [...rkReport];
  let reloaded: ReloadEntry = reloadEntry(sshdNeedsReload, o.reload ? null : 'skipped');
  let removeConfigDir = false;
  try {
    const save = () => writeState(o.configDir, state);
    migrateBackups(o.configDir, state, warn);
    save();
    // The metrics timer stops before its unit files go; the file it wrote goes too (node_exporter would serve it forever).
    if (o.all && state.metrics) {
      if (state.metrics.activated) report.push(await systemdTimer('disable'));
      rmSync(state.metrics.output, { force: true });
      report.push(`removed ${state.metrics.output}`);
      if (state.metrics.report !== undefined) {
        rmSync(state.metrics.report, { force: true });
        report.push(`removed ${state.metrics.report}`);
      }
      delete state.metrics;
      save();
    }
    for (const c of pending) {
      if (c === sshdChange || c === caSshdChange) continue;
      applyChange(c, state, save, o.configDir);
      report.push(`changed ${c.path} (${c.label})`);
    }
    state.keys = state.keys.filter((k) => !selected.includes(k));
    for (const file of new Set(selected.map((k) => k.file))) {
      if (!state.keys.some((k) => k.file === file)) forgetFile(state, file, o.configDir);
    }
    if (ca && caState) {
      ca.commit(caState);
      // A file back to what it was before install is gatekeeper's no more.
      for (const c of ca.files) if (c.after === null || !(c.path === caState.caFile ? caState.cas.length : caState.principals.some((p) => p.file === c.path))) forgetFile(state, c.path, o.configDir);
      if (caState.cas.length === 0 && caState.principals.length === 0) {
        delete state.ca;
        // The directories install made for them, when empty.
        for (const d of [caState.principalsDir, dirname(caState.caFile)]) {
          if (!state.createdDirs.includes(d)) continue;
          try {
            rmdirSync(d);
            state.createdDirs = state.createdDirs.filter((x) => x !== d);
          } catch {
            // not empty: keep
          }
        }
      }
    }
    save();
    if (sshdWrites.length) {
      for (const c of sshdWrites) applyChange(c, state, save, o.configDir);
      const t = await sshdTest(o.sshd, state.sshd?.main ?? caState?.sshd?.main ?? o.sshdConfig);
      if (!t.ok) {
        for (const c of [...sshdWrites].reverse()) applyChange({ ...c, before: c.after, after: c.before }, state, save, o.configDir);
        throw fail(`sshd -t fails after restoring ${sshdWrites.map((c) => c.path).join(' and ')} (${t.message}); put gatekeeper's version back, sshd was not reloaded`);
      }
      for (const c of sshdWrites) report.push(`changed ${c.path} (${c.label}; sshd -t passes)`);
      if (sshdChange) {
        forgetFile(state, sshdChange.path, o.configDir);
        state.sshd = null;
      }
      if (caSshdChange && !state.ca?.sshd && !(state.sshd && state.sshd.path === caSshdChange.path)) forgetFile(state, caSshdChange.path, o.configDir);
      save();
      if (o.reload) {
        const eff = await sshdEffective(o.sshd, o.sshdConfig);
        const r = await reloadSshd({ pidFile: 'error' in eff ? undefined : effectiveValue(eff, 'pidfile'), sshd: o.sshd });
        reloaded = reloadEntry(true, r);
        report.push(r.how === 'systemd' ? `reloaded sshd (systemctl reload ${r.unit})` : r.how === 'sighup' ? `reloaded sshd (SIGHUP to pid ${r.pid})` : `did not reload sshd: ${r.why}`);
      } else report.push('sshd not reloaded (--no-reload)');
    } else if (o.all && state.sshd) {
      state.sshd = null;
    }
    if (rk.changed && sshdWrites.length === 0) reloaded = await reloadAfter(o, report);
    if (o.all) {
      for (const c of pending) if (c !== sshdChange) forgetFile(state, c.path, o.configDir);
      if (state.deployed.length) {
        removeBundle(lib, state.deployed);
        report.push(`removed the bundle under ${lib}`);
      }
      state.deployed = [];
      // The gate's own cache (compiled code, validated policies) belongs to
      // the system's installation: removed with it, never for a scratch one.
      if (o.configDir === DEFAULTS.configDir && existsSync(CACHE_DIR)) {
        rmSync(CACHE_DIR, { recursive: true, force: true });
        report.push(`removed the gate's cache ${CACHE_DIR}`);
      }
      // Directories install created, deepest first, when they are empty (the log directory keeps its logs).
      for (const d of [...new Set(state.createdDirs)].sort((a, b) => b.length - a.length)) {
        if (d === o.configDir) continue;
        try {
          rmdirSync(d);
        } catch {
          // not empty: keep
        }
      }
      // The backups' directory is bookkeeping: it goes when nothing in it is needed any more.
      try {
        rmdirSync(backupDir(o.configDir));
      } catch {
        // absent, or still holds backups of files install keeps
      }
      const leftover = Object.keys(state.files);
      if (leftover.length === 0 && state.keys.length === 0) {
        rmSync(statePath(o.configDir), { force: true });
        removeConfigDir = true;
      } else save();
    }
  } finally {
    release();
  }
  if (removeConfigDir && state.createdDirs.includes(o.configDir)) {
    try {
      rmdirSync(o.configDir);
    } catch {
      // it holds policies the admin keeps
    }
  }
  for (const w of warnings) o.err(`gatekeeper: warning: ${w}\n`);
  say(report.length ? `${report.join('\n')}\n` : 'nothing to change\n');
  if (o.json) o.out(printReport({ ...makeReport('uninstall', false, fileEntries, keyEntries, reloaded), ...extra }));
  return 0;
}

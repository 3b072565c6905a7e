// `gatekeeper install --revoked-keys FILE` and `uninstall --revoked-keys`:
// sshd's RevokedKeys, through install's sshd_config machinery (a drop-in of
// its own or the main file, validated with sshd -t and sshd -T on a candidate
// before anything is replaced, checked again after, rolled back on failure,
// recorded in install-state for uninstall and for `gatekeeper revoke`).
//
// Order matters: sshd refuses every key when its RevokedKeys file cannot be
// read, so the list (an empty KRL, made by `ssh-keygen -k`) exists before the
// line that names it, and uninstall takes out the line but keeps the list.
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EX_CONFIG, EX_NOPERM, EX_USAGE, GatekeeperError } from '../exit.js';
import { trustProblem } from '../policy/trust.js';
import { firstGlobalSetting } from '../sshd/config.js';
import { fsConfigReader } from '../sshd/files.js';
import { planGlobalSetting, type SettingPlan } from '../sshd/global-setting.js';
import { isKrl, makeEmptyKrl } from '../sshd/krl.js';
import { reloadSshd } from '../sshd/reload.js';
import { effectiveValue, sshdEffective, sshdTest } from '../sshd/run.js';
import { applyChange, describeChange, forgetFile, isNoop, type Change } from './changes.js';
import { acquireLock, atomicWrite, ensureDir, lstatOrNull, readOrNull } from './fsutil.js';
import { checkAbsolute, matchSpec, SAFE_PATH, validateSshdCandidate, type CommonOptions } from './install.js';
import { fileEntry, makeReport, printReport, reloadEntry, type FileEntry, type ReloadEntry } from './report.js';
import { planSshdRevert } from './sshd-plan.js';
import { migrateBackups, readState, sha256, writeState, type SshdRecord } from './state.js';

export const REVOKED_KEYS_DROPINS = ['00-gatekeeper-revoked-keys.conf', '00-gatekeeper-revoked-keys'];
export const REVOKED_KEYS_MARKER = '# Added by gatekeeper install --revoked-keys; `gatekeeper uninstall --revoked-keys` removes it.';

const usage = (m: string) => new GatekeeperError(m, EX_USAGE, 'usage');
const config = (m: string) => new GatekeeperError(m, EX_CONFIG, 'config');

export const revokedKeysSetting = (file: string) => ({
  keyword: 'RevokedKeys',
  value: file,
  dropinNames: REVOKED_KEYS_DROPINS,
  comment: [
    'Written by gatekeeper install --revoked-keys: sshd refuses every key and',
    'certificate this list revokes (`gatekeeper revoke` adds to it, through',
    'ssh-keygen -k -u). `gatekeeper uninstall --revoked-keys` removes this file.',
  ],
  marker: REVOKED_KEYS_MARKER,
});

export interface RevokedKeysOptions extends CommonOptions {
  revokedKeys: string;
}

/** The list must be a regular file root alone can change, on a path root alone can change (sshd reads it as root). */
function listProblem(file: string): string | null {
  const st = lstatOrNull(file);
  if (st === null) {
    const dir = dirname(file);
    if (!lstatOrNull(dir)?.isDirectory()) return `${dir} is not a directory (create it first, root-owned)`;
    return trustProblem(dir);
  }
  if (st.isSymbolicLink() || !st.isFile()) return `${file} is not a regular file (a symlink is not followed)`;
  return trustProblem(file);
}

/** A new empty KRL's bytes, made by ssh-keygen in a private directory. */
async function emptyKrlBytes(): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatekeeper-krl-'));
  try {
    await makeEmptyKrl(join(dir, 'krl'));
    return readFileSync(join(dir, 'krl'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sshdRecord = (plan: SettingPlan, main: string): SshdRecord =>
  plan.kind === 'dropin' ? { kind: 'dropin', path: plan.path, main } : { kind: 'edit', path: main, main, mode: plan.mode, original: plan.original, written: plan.written, addedTrailingNewline: plan.addedTrailingNewline };

export async function reloadAfter(o: CommonOptions, report: string[]): Promise<ReloadEntry> {
  if (!o.reload) {
    report.push('sshd not reloaded (--no-reload): it applies the change when it next starts or reloads');
    return reloadEntry(true, 'skipped');
  }
  const eff = await sshdEffective(o.sshd, o.sshdConfig);
  const r = await reloadSshd({ pidFile: 'error' in eff ? undefined : effectiveValue(eff, 'pidfile'), sshd: o.sshd });
  report.push(r.how === 'systemd' ? `reloaded sshd (systemctl reload ${r.unit})` : r.how === 'sighup' ? `reloaded sshd (SIGHUP to pid ${r.pid})` : `did not reload sshd: ${r.why}`);
  return reloadEntry(true, r);
}

export async function installRevokedKeys(o: RevokedKeysOptions): Promise<number> {
  for (const [n, p] of [['--sshd-config', o.sshdConfig], ['--config-dir', o.configDir], ['--sshd', o.sshd], ['--revoked-keys', o.revokedKeys]] as const) checkAbsolute(n, p);
  const file = o.revokedKeys;
  if (!SAFE_PATH.test(file) || file.endsWith('/')) throw usage(`--revoked-keys ${file}: name a file, with letters, digits and ._+-/ only (the path goes into sshd_config)`);
  if (!o.dryRun && process.getuid?.() !== 0) throw new GatekeeperError('install must run as root (or use --dry-run)', EX_NOPERM, 'not-root');
  if (!existsSync(o.sshdConfig)) throw config(`${o.sshdConfig} does not exist`);
  const say = o.json ? o.err : o.out;
  const warnings: string[] = [];

  const problem = listProblem(file);
  if (problem) throw config(`refusing --revoked-keys ${file}: ${problem}; nothing was changed`);
  const create = lstatOrNull(file) === null;
  if (!create && !isKrl(readFileSync(file))) warnings.push(`${file} is not a KRL but a plain list of keys: sshd reads it, but gatekeeper revoke adds only to a KRL (convert it once: ssh-keygen -k -f ${file}.krl ${file})`);
  const krl = create ? await emptyKrlBytes() : null;

  // What sshd reads today, globally and for the user's connections (a Match block may set RevokedKeys too).
  const spec = matchSpec(o.user, undefined);
  const global = await sshdEffective(o.sshd, o.sshdConfig);
  const forUser = await sshdEffective(o.sshd, o.sshdConfig, spec);
  if ('error' in global) throw config(`sshd -T -f ${o.sshdConfig} fails, fix the configuration first: ${global.error}`);
  if ('error' in forUser) throw config(`sshd -T -C user=${o.user} -f ${o.sshdConfig} fails, fix the configuration first: ${forUser.error}`);
  const now = [effectiveValue(global, 'revokedkeys') ?? 'none', effectiveValue(forUser, 'revokedkeys') ?? 'none'];
  let plan: SettingPlan | null = null;
  if (!now.every((v) => v === file)) {
    const other = now.find((v) => v !== 'none' && v !== file);
    if (other !== undefined) {
      const where = firstGlobalSetting('revokedkeys', o.sshdConfig, fsConfigReader);
      throw config(
        `sshd already reads RevokedKeys ${other}${where ? ` (${where.file}:${where.lineNo})` : ' (in a Match block)'}: revoke into that list with gatekeeper revoke --revoked-keys ${other}, ` +
          `or run install --revoked-keys ${other} to record it; nothing was changed`,
      );
    }
    plan = planGlobalSetting(o.sshdConfig, readFileSync(o.sshdConfig, 'utf8'), revokedKeysSetting(file));
    if (plan.kind === 'dropin' && existsSync(plan.path) && readFileSync(plan.path, 'utf8') !== plan.content) throw config(`${plan.path} exists and is not gatekeeper's; nothing was changed`);
    const after = await validateSshdCandidate(o, [plan], spec);
    const got = [effectiveValue(after.global, 'revokedkeys'), effectiveValue(after.forUser, 'revokedkeys')];
    if (!got.every((v) => v === file)) {
      const where = firstGlobalSetting('revokedkeys', o.sshdConfig, fsConfigReader, undefined, new Map([[plan.path, plan.kind === 'dropin' ? plan.content : plan.text]]));
      throw config(`after the change sshd would still read RevokedKeys ${got.find((v) => v !== file) ?? 'none'}${where && where.file !== plan.path ? ` (from ${where.file}:${where.lineNo}, read first)` : ' (a Match block sets it)'}; nothing was changed`);
    }
  }

  const state = readState(o.configDir);
  if (state.revokedKeys && state.revokedKeys.file !== file) {
    throw config(`install recorded RevokedKeys ${state.revokedKeys.file} earlier; take it out first with uninstall --revoked-keys (the list itself is kept), then run install --revoked-keys ${file}; nothing was changed`);
  }
  let change: Change | null = null;
  if (plan) {
    change =
      plan.kind === 'dropin'
        ? { path: plan.path, before: readOrNull(plan.path), after: Buffer.from(plan.content), mode: 0o644, uid: 0, gid: 0, label: `sshd drop-in: RevokedKeys ${file}` }
        : (() => {
            const st = statSync(o.sshdConfig);
            return { path: o.sshdConfig, before: readOrNull(o.sshdConfig), after: Buffer.from(plan.text), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, label: `sshd_config: RevokedKeys ${file}` };
          })();
  }
  const entries: FileEntry[] = [
    { path: file, type: 'file', action: create ? 'created' : 'unchanged', what: 'RevokedKeys list (KRL)' },
    ...(change ? [fileEntry(change)] : []),
  ];

  if (o.dryRun) {
    say('gatekeeper install --dry-run: nothing was changed.\n');
    if (create) say(`# would create ${file}: an empty KRL (ssh-keygen -k), root-owned 0644\n`);
    if (change && !isNoop(change)) say(describeChange(change));
    if (plan) say(`# would validate with ${o.sshd} -t and reload sshd${o.reload ? '' : ' (skipped: --no-reload)'}\n`);
    for (const w of warnings) o.err(`gatekeeper: warning: ${w}\n`);
    if (o.json) o.out(printReport(makeReport('install', true, entries, [], reloadEntry(plan !== null, 'skipped'))));
    return 0;
  }

  const configDirMade = ensureDir(o.configDir, 0o755);
  const release = acquireLock(join(o.configDir, '.install.lock'));
  const report: string[] = [];
  let reloaded: ReloadEntry = reloadEntry(false, null);
  try {
    const fresh = readState(o.configDir);
    fresh.createdDirs.push(...configDirMade);
    const save = () => writeState(o.configDir, fresh);
    migrateBackups(o.configDir, fresh, (m) => warnings.push(m));
    // 1. The list, before any line names it.
    if (krl) {
      atomicWrite(file, krl, { mode: 0o644, uid: 0, gid: 0 });
      report.push(`created ${file} (an empty KRL, ssh-keygen -k)`);
    }
    fresh.revokedKeys = { file, created: (fresh.revokedKeys?.created ?? false) || krl !== null, sshd: fresh.revokedKeys?.sshd ?? null };
    save();
    // 2. sshd_config, validated before (above) and after it is in place.
    if (plan && change) {
      applyChange(change, fresh, save, o.configDir);
      const t = await sshdTest(o.sshd, o.sshdConfig);
      const eff = await sshdEffective(o.sshd, o.sshdConfig, spec);
      const got = 'error' in eff ? eff.error : effectiveValue(eff, 'revokedkeys');
      if (!t.ok || got !== file) {
        applyChange({ ...change, before: change.after, after: change.before }, fresh, save, o.configDir);
        if (change.before === null) forgetFile(fresh, change.path, o.configDir);
        save();
        throw config(`after writing ${change.path}, sshd ${t.ok ? `-T says RevokedKeys ${got}` : `-t fails: ${t.message}`}; restored it, sshd was not reloaded`);
      }
      fresh.revokedKeys.sshd = sshdRecord(plan, o.sshdConfig);
      save();
      report.push(`changed ${change.path} (${change.label}; sshd -t and sshd -T -C user=${o.user} confirm)`);
      reloaded = await reloadAfter(o, report);
    }
  } finally {
    release();
  }
  for (const w of warnings) o.err(`gatekeeper: warning: ${w}\n`);
  say(report.length ? `${report.join('\n')}\n` : `nothing to change: sshd reads RevokedKeys ${file} already\n`);
  say(`revoke keys and certificates with: gatekeeper revoke --key KEY.pub | --serial N --ca CA.pub | --key-id ID --ca CA.pub\n`);
  if (o.json) o.out(printReport(makeReport('install', false, entries, [], reloaded)));
  return 0;
}

/**
 * `uninstall --revoked-keys`: the RevokedKeys line install wrote goes (the
 * drop-in removed, or the main file's lines taken out, surgically when the
 * file changed since); the list itself stays, with what it revokes. Called
 * by uninstall before anything else (also for --all). Returns whether sshd's
 * configuration changed (with --dry-run: would change, and the diff).
 */
export async function uninstallRevokedKeys(o: CommonOptions, report: string[], warn: (m: string) => void): Promise<{ entries: FileEntry[]; changed: boolean; diff: string }> {
  const state = readState(o.configDir);
  const rec = state.revokedKeys;
  if (!rec) return { entries: [], changed: false, diff: '' };
  const s = rec.sshd;
  let change: Change | null = null;
  if (s) {
    const current = readOrNull(s.path);
    const known = state.files[s.path];
    if (s.kind === 'dropin') {
      if (current !== null && known && sha256(current) !== known.sha256) warn(`${s.path} was changed since install; left as it is`);
      else if (current !== null) change = { path: s.path, before: current, after: null, mode: 0o644, uid: 0, gid: 0, label: `sshd drop-in: RevokedKeys ${rec.file} (removed)` };
    } else if (current !== null) {
      const reverted = planSshdRevert(current.toString('utf8'), s);
      if (reverted === null) warn(`${s.path}: the RevokedKeys line install wrote is gone; left as it is`);
      else {
        const st = lstatSync(s.path);
        change = { path: s.path, before: current, after: Buffer.from(reverted), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, label: `sshd_config: RevokedKeys ${rec.file} removed` };
      }
    }
  }
  const entries = change ? [fileEntry(change)] : [];
  if (o.dryRun) return { entries, changed: change !== null, diff: change ? describeChange(change) : '' };
  const release = acquireLock(join(o.configDir, '.install.lock'));
  try {
    const save = () => writeState(o.configDir, state);
    if (change) {
      applyChange(change, state, save, o.configDir);
      const t = await sshdTest(o.sshd, s?.main ?? o.sshdConfig);
      if (!t.ok) {
        applyChange({ ...change, before: change.after, after: change.before }, state, save, o.configDir);
        throw config(`sshd -t fails after taking RevokedKeys out of ${change.path} (${t.message}); put gatekeeper's version back, sshd was not reloaded`);
      }
      // A drop-in install created is gone again; an edited main file stays recorded while other changes of install's are in it.
      if (change.after === null || (s?.kind === 'edit' && state.sshd === null && state.ca?.sshd?.path !== change.path)) forgetFile(state, change.path, o.configDir);
      report.push(`changed ${change.path} (${change.label}; sshd -t passes)`);
    }
    report.push(`kept ${rec.file}, the revocation list${existsSync(rec.file) ? '' : ' (already gone)'}`);
    delete state.revokedKeys;
    save();
  } finally {
    release();
  }
  return { entries, changed: change !== null, diff: '' };
}


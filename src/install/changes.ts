// A planned file change, shown (--dry-run) or applied. Applying records the
// file's original state in the manifest *before* writing, so an interruption
// at any point leaves a manifest uninstall can act on: a file whose hash is
// not what the manifest expects is only ever edited surgically, never
// overwritten with a backup.
import { rmSync, statSync } from 'node:fs';
import { unifiedDiff } from './diff.js';
import { atomicWrite, lstatOrNull } from './fsutil.js';
import { removeGuarded, statGuarded, writeGuarded, type Account } from './guarded.js';
import { isOwnBackup, sha256, writeBackup, type InstallState } from './state.js';

export interface Change {
  path: string;
  /** Current bytes, null when the file does not exist. */
  before: Buffer | null;
  /** New bytes, null to delete the file. */
  after: Buffer | null;
  mode: number;
  uid: number;
  gid: number;
  /** What the change is, for the report. */
  label: string;
  /**
   * The file is in this account's area (its authorized_keys): every access
   * goes through guarded.ts, which checks each path component and never
   * follows the account's links.
   */
  account?: Account;
}

/** Mode and owner of the change's file now (lstat, or the guarded check for an account's file). */
const currentStat = (c: Change) => (c.account ? statGuarded(c.path, c.account) : lstatOrNull(c.path));

export const isNoop = (c: Change): boolean => {
  if (c.before === null || c.after === null) return c.before === c.after;
  if (!c.before.equals(c.after)) return false;
  const st = currentStat(c);
  return st !== null && (st.mode & 0o7777) === c.mode && st.uid === c.uid && st.gid === c.gid;
};

/** `diff -u`-style text for --dry-run; binary-looking content is summarised. */
export function describeChange(c: Change): string {
  if ([c.before, c.after].some((b) => b !== null && b.includes(0))) {
    const size = (b: Buffer | null) => (b === null ? 'none' : `${b.length} bytes, sha256 ${sha256(b).slice(0, 16)}…`);
    return `# ${c.label}\n# binary ${c.path}: ${size(c.before)} -> ${size(c.after)}, mode ${c.mode.toString(8)}, owner ${c.uid}:${c.gid}\n`;
  }
  const text = (b: Buffer | null) => (b === null ? '' : b.toString('utf8'));
  const from = c.before === null ? '/dev/null' : `${c.path}`;
  const to = c.after === null ? '/dev/null' : `${c.path} (new)`;
  const diff = unifiedDiff(text(c.before), text(c.after), from, to);
  const st = currentStat(c);
  const modeNote = c.after !== null && st && (st.mode & 0o7777) !== c.mode ? `# mode ${(st.mode & 0o7777).toString(8)} -> ${c.mode.toString(8)}\n` : '';
  const ownerNote = c.after !== null && st && (st.uid !== c.uid || st.gid !== c.gid) ? `# owner ${st.uid}:${st.gid} -> ${c.uid}:${c.gid}\n` : '';
  return `# ${c.label}\n${modeNote}${ownerNote}${diff}`;
}

/**
 * Record the original (first time only: the manifest has no record of the
 * file yet), then write or delete atomically. The backup of the original is
 * written fresh into CONFIG-DIR/backups (root-owned 0700): whatever lies
 * next to the file under a backup's name is never looked at.
 */
export function applyChange(c: Change, state: InstallState, save: () => void, configDir: string): void {
  if (!state.files[c.path]) {
    if (c.before === null) state.files[c.path] = { existed: false, sha256: '' };
    else {
      const st = c.account ? statGuarded(c.path, c.account) : statSync(c.path);
      if (st === null) throw new Error(`${c.path} disappeared while install ran`);
      const backup = writeBackup(configDir, c.path, c.before);
      state.files[c.path] = { existed: true, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, backup, sha256: '' };
    }
  }
  const record = state.files[c.path]!;
  record.sha256 = c.after === null ? '' : sha256(c.after);
  save();
  if (c.account) {
    if (c.after === null) removeGuarded(c.path, c.account);
    else writeGuarded(c.path, c.after, { mode: c.mode, uid: c.uid, gid: c.gid }, c.account);
  } else if (c.after === null) rmSync(c.path, { force: true });
  else atomicWrite(c.path, c.after, { mode: c.mode, uid: c.uid, gid: c.gid });
}

/**
 * Forget a file once it is back to its original state (drop its backup too:
 * only one in CONFIG-DIR/backups; a backup an earlier version left next to
 * the file is not ours to trust, nor to delete through a path).
 */
export function forgetFile(state: InstallState, path: string, configDir: string): void {
  const rec = state.files[path];
  if (rec?.backup && isOwnBackup(configDir, rec.backup)) rmSync(rec.backup, { force: true });
  delete state.files[path];
}

// install's manifest (CONFIG-DIR/install-state.json): what install changed,
// so uninstall removes exactly that. For every file it records whether the
// file existed, its original mode/owner and a backup of its original bytes,
// and the hash of what install last wrote: when the file still has that hash,
// nothing else changed it since and uninstall can restore the original bytes.
// The backups live in CONFIG-DIR/backups (root-owned 0700), never next to the
// file: next to a user's authorized_keys, the user could replace it.
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { GatekeeperError } from '../exit.js';
import { atomicWrite, ensureDir, readOrNull } from './fsutil.js';
import { readGuarded, removeGuarded, ROOT } from './guarded.js';

export const STATE_FILE = 'install-state.json';
export const STATE_VERSION = 1;

export interface FileRecord {
  existed: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Copy of the original bytes (when it existed): CONFIG-DIR/backups/NAME.HASH (earlier versions: PATH.gatekeeper-bak). */
  backup?: string;
  /** sha256 of what install last wrote. */
  sha256: string;
}

export interface KeyRecord {
  file: string;
  user: string;
  policy: string;
  /** `SHA256:…` of the key. */
  fingerprint: string;
  /** The line install wrote (raw). */
  line: string;
  /** Lines it replaced (raw), first one in place. */
  replaced: string[];
  addedTrailingNewline: boolean;
}

export type SshdRecord =
  | { kind: 'dropin'; path: string; main: string }
  | {
      kind: 'edit';
      path: string;
      main: string;
      mode: 'replaced' | 'inserted';
      original: string | null;
      written: string[];
      addedTrailingNewline: boolean;
    };

/** install --ca: the CA file, the principals files' directory, and what install put in them and in sshd's configuration. */
export interface CaState {
  caFile: string;
  principalsDir: string;
  /** The CAs install added (their lines as written). */
  cas: { fingerprint: string; line: string }[];
  /** One per principal line install wrote, in DIR/USER. */
  principals: { user: string; file: string; name: string; policy: string; line: string; replaced: string | null }[];
  /** Where the TrustedUserCAKeys/AuthorizedPrincipalsFile/ExposeAuthInfo settings are: a drop-in of their own, or a block in the main file. */
  sshd: { kind: 'dropin'; path: string; main: string } | { kind: 'edit'; path: string; main: string; written: string[]; addedTrailingNewline: boolean } | null;
}

export interface InstallState {
  version: typeof STATE_VERSION;
  files: Record<string, FileRecord>;
  keys: KeyRecord[];
  sshd: SshdRecord | null;
  /** Deployed bundle files (absolute), the launcher and directories install created. */
  deployed: string[];
  createdDirs: string[];
  /** Log files the logrotate rule covers. */
  logs: string[];
  /** install --metrics-dir: the file the timer (or cron entry) writes, and whether systemctl enabled the timer. */
  metrics?: { output: string; kind: 'systemd' | 'cron'; activated: boolean; report?: string };
  /**
   * install --revoked-keys: the list sshd reads as RevokedKeys (`gatekeeper revoke` writes into it), whether install
   * created it (an empty KRL), and the sshd_config change that set it (null when sshd read that file already).
   */
  revokedKeys?: { file: string; created: boolean; sshd: SshdRecord | null };
  ca?: CaState;
}

export const emptyState = (): InstallState => ({ version: STATE_VERSION, files: {}, keys: [], sshd: null, deployed: [], createdDirs: [], logs: [] });

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export const statePath = (configDir: string): string => join(configDir, STATE_FILE);

export function readState(configDir: string): InstallState {
  const raw = readOrNull(statePath(configDir));
  if (raw === null) return emptyState();
  const data = JSON.parse(raw.toString('utf8')) as InstallState;
  if (data.version !== STATE_VERSION) throw new Error(`${statePath(configDir)}: unknown state version ${String(data.version)}`);
  return { ...emptyState(), ...data };
}

export function writeState(configDir: string, state: InstallState): void {
  atomicWrite(statePath(configDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, uid: 0, gid: 0 });
}

export const backupDir = (configDir: string): string => join(configDir, 'backups');

/** A backup this version wrote (in CONFIG-DIR/backups), as opposed to an earlier version's PATH.gatekeeper-bak. */
export const isOwnBackup = (configDir: string, backup: string): boolean => backup.startsWith(`${backupDir(configDir)}/`);

/**
 * Keep `original`, the bytes `path` had before install first changed it;
 * returns the backup's path. The directory is bookkeeping like the manifest:
 * not in createdDirs (nor the --json report); uninstall --all removes it when empty.
 */
export function writeBackup(configDir: string, path: string, original: Buffer): string {
  ensureDir(backupDir(configDir), 0o700);
  const file = join(backupDir(configDir), `${basename(path)}.${sha256(path).slice(0, 16)}`);
  atomicWrite(file, original, { mode: 0o600, uid: 0, gid: 0 });
  return file;
}

/**
 * The original bytes of a recorded file, or null. An earlier version's
 * backup next to the file is read only when it and every directory above it
 * are root's alone (checked component by component, no link followed out of
 * a directory anyone else can write): /etc/ssh/sshd_config.gatekeeper-bak
 * is, ~USER/.ssh/authorized_keys.gatekeeper-bak never is (the user could have
 * replaced it with a link to /etc/shadow). Then uninstall edits the file
 * surgically instead.
 */
export function readBackup(configDir: string, rec: FileRecord, warn: (m: string) => void): Buffer | null {
  if (!rec.backup) return null;
  if (isOwnBackup(configDir, rec.backup)) return readOrNull(rec.backup);
  try {
    return readGuarded(rec.backup, ROOT)?.data ?? null;
  } catch (e) {
    if (!(e instanceof GatekeeperError)) throw e;
    warn(`not trusting ${rec.backup}, the backup an earlier version kept next to the file (${e.message.replace(/^refusing: /, '').replace(/; nothing was changed there$/, '')}): left where it is; only the lines install wrote are taken out`);
    return null;
  }
}

/** Move earlier versions' backups into CONFIG-DIR/backups (those readBackup trusts); forget the others. */
export function migrateBackups(configDir: string, state: InstallState, warn: (m: string) => void): void {
  for (const [path, rec] of Object.entries(state.files)) {
    if (!rec.backup || isOwnBackup(configDir, rec.backup)) continue;
    const legacy = rec.backup;
    const data = readBackup(configDir, rec, warn);
    if (data === null) {
      delete rec.backup;
      continue;
    }
    rec.backup = writeBackup(configDir, path, data);
    removeGuarded(legacy, ROOT);
  }
}

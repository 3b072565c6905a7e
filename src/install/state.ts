// install's manifest (CONFIG-DIR/install-state.json): what install changed,
// so uninstall removes exactly that. For every file it records whether the
// file existed, its original mode/owner and a backup of its original bytes,
// and the hash of what install last wrote: when the file still has that hash,
// nothing else changed it since and uninstall can restore the original bytes.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { atomicWrite, readOrNull } from './fsutil.js';

export const STATE_FILE = 'install-state.json';
export const STATE_VERSION = 1;

export interface FileRecord {
  existed: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Copy of the original bytes (when it existed). */
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

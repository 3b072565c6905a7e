// The machine-readable account `install --json` and `uninstall --json` print
// on stdout (one JSON object, nothing else; the human messages go to stderr):
// what changed, file by file, and what became of sshd's reload. Configuration
// management (the Ansible role) takes `changed` from it instead of guessing
// at text. With --dry-run it is what *would* change. install's own manifest
// (CONFIG-DIR/install-state.json) and the backups next to edited files are
// bookkeeping, not listed: they change only together with a listed file.
import { existsSync } from 'node:fs';
import type { ReloadResult } from '../sshd/reload.js';
import type { Change } from './changes.js';
import { isNoop } from './changes.js';

export const REPORT_VERSION = 1;

export type FileAction = 'created' | 'updated' | 'removed' | 'unchanged';

export interface FileEntry {
  path: string;
  type: 'file' | 'directory';
  action: FileAction;
  /** What the file is to gatekeeper: "launcher", "authorized_keys of root", "sshd drop-in", … */
  what: string;
}

export interface KeyEntry {
  /** `SHA256:…`, as ssh-keygen -l prints it. */
  fingerprint: string;
  policy: string;
  /** install: added / replaced (the key had another line) / unchanged; uninstall: removed. */
  action: 'added' | 'replaced' | 'unchanged' | 'removed';
}

export interface ReloadEntry {
  /** sshd's configuration changed (or would): a running sshd must re-read it. */
  needed: boolean;
  /**
   * What was done about it: null when not needed; "skipped" with --no-reload
   * or --dry-run (the caller reloads: the Ansible role's handler); otherwise
   * how install reached sshd ("systemd", "sighup") or "none" when it found no
   * running sshd (see `detail`).
   */
  done: 'systemd' | 'sighup' | 'none' | 'skipped' | null;
  detail?: string;
}

export interface ChangeReport {
  version: typeof REPORT_VERSION;
  command: 'install' | 'uninstall';
  dryRun: boolean;
  /** true when any file or directory was (or would be) created, updated or removed. */
  changed: boolean;
  files: FileEntry[];
  keys: KeyEntry[];
  reload: ReloadEntry;
}

/** The action a planned change stands for. */
export function changeAction(c: Change): FileAction {
  if (isNoop(c)) return 'unchanged';
  if (c.after === null) return 'removed';
  return c.before === null ? 'created' : 'updated';
}

export const fileEntry = (c: Change): FileEntry => ({ path: c.path, type: 'file', action: changeAction(c), what: c.label });

export const dirEntry = (path: string, what: string): FileEntry => ({ path, type: 'directory', action: 'created', what });

/** A file install deploys as-is (the bundle): created when absent, updated when its bytes differ. */
export const deployedEntry = (path: string, differs: boolean, what: string): FileEntry => ({
  path,
  type: 'file',
  action: !differs ? 'unchanged' : existsSync(path) ? 'updated' : 'created',
  what,
});

export function reloadEntry(needed: boolean, r: ReloadResult | 'skipped' | null): ReloadEntry {
  if (!needed || r === null) return { needed, done: null };
  if (r === 'skipped') return { needed, done: 'skipped' };
  if (r.how === 'systemd') return { needed, done: 'systemd', detail: `systemctl reload ${r.unit}` };
  if (r.how === 'sighup') return { needed, done: 'sighup', detail: `SIGHUP to pid ${r.pid}` };
  return { needed, done: 'none', detail: r.why };
}

export function makeReport(command: ChangeReport['command'], dryRun: boolean, files: FileEntry[], keys: KeyEntry[], reload: ReloadEntry): ChangeReport {
  return { version: REPORT_VERSION, command, dryRun, changed: files.some((f) => f.action !== 'unchanged'), files, keys, reload };
}

export const printReport = (r: ChangeReport): string => `${JSON.stringify(r)}\n`;

// What the policy names to run must be usable and trusted: the gate refuses
// to start an rsync that is missing, not executable, or replaceable by
// another user (a root shell for them); `check` reports the same.
import { accessSync, constants, statSync } from 'node:fs';
import { trustProblem } from './trust.js';

/** Why the policy's rsync (or a daemon policy's rsyncd.conf) cannot be used, or null. */
export function targetProblem(rsync: string, daemonConfig: string | undefined): string | null {
  try {
    if (!statSync(rsync).isFile()) return `the policy's rsync ${rsync} is not a regular file`;
    accessSync(rsync, constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `the policy's rsync ${rsync} ${code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : `cannot be used (${code})`}`;
  }
  if (process.getuid?.() === 0) {
    const problem = trustProblem(rsync) ?? (daemonConfig ? trustProblem(daemonConfig) : null);
    if (problem) return `untrusted: ${problem}`;
  }
  return null;
}

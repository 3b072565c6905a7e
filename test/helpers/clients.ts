// What real rsync clients send, and what rrsync says about it.
//
// recordClientCommand runs the real /usr/bin/rsync client with -e pointing at
// a recorder script that writes the remote command (the words after the host,
// joined by spaces as ssh joins them) and exits 1. rrsyncVerdict runs a copy
// of the system's rrsync whose RSYNC is /bin/true: exit 0 means rrsync would
// have run rsync, anything else that it refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'gk-clients-'));
chmodSync(work, 0o700);
const recorder = join(work, 'record.sh');
writeFileSync(
  recorder,
  `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -l) shift 2;; *) break;; esac; done
shift
printf '%s' "$*" > "$GK_RECORD_OUT"
exit 1
`,
  { mode: 0o700 },
);

let counter = 0;

/** The command a real rsync client sends for these client arguments ("H:" is the remote host). */
export function recordClientCommand(args: readonly string[], cwd = work): string {
  const out = join(work, `out-${counter++}`);
  const real = args.map((a) => a.replace(/^H:/, 'root@h:'));
  spawnSync('/usr/bin/rsync', ['-e', recorder, ...real], { cwd, env: { PATH: '/usr/bin:/bin', GK_RECORD_OUT: out }, stdio: 'ignore' });
  if (!existsSync(out)) throw new Error(`the rsync client sent nothing for: ${args.join(' ')}`);
  const cmd = readFileSync(out, 'utf8');
  rmSync(out);
  return cmd;
}

let rrsyncCopy: string | null = null;

export const haveRrsync = existsSync('/usr/bin/rrsync') && existsSync('/usr/bin/python3');

/** rrsync's verdict for a command under the given flags (e.g. ['-ro'], ['-wo', '-no-del']). */
export function rrsyncVerdict(command: string, flags: readonly string[], dir: string): 'allow' | 'deny' {
  if (!rrsyncCopy) {
    rrsyncCopy = join(work, 'rrsync');
    const src = readFileSync('/usr/bin/rrsync', 'utf8').replace(/^RSYNC = .*$/m, "RSYNC = '/bin/true'");
    writeFileSync(rrsyncCopy, src, { mode: 0o700 });
  }
  const r = spawnSync('/usr/bin/python3', [rrsyncCopy, ...flags, dir], {
    env: { PATH: '/usr/bin:/bin', SSH_ORIGINAL_COMMAND: command, SSH_CONNECTION: '127.0.0.1 1 127.0.0.1 22' },
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: dir,
  });
  return r.status === 0 ? 'allow' : 'deny';
}

export function cleanupClients(): void {
  rmSync(work, { recursive: true, force: true });
}

export { execFileSync };

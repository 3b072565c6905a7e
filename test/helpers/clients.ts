// What real rsync clients send, and what rrsync says about it.
//
// CLIENTS names every client the project tests with: the system's rsync and the
// ones scripts/clients.sh builds from test/fixtures/clients/ into clients/.
//
// recordClientCommand runs a real rsync client (/usr/bin/rsync unless told) with -e pointing at
// a recorder script that writes the remote command (the words after the host,
// joined by spaces as ssh joins them) and exits 1. rrsyncVerdict runs a copy
// of the system's rrsync whose RSYNC is /bin/true: exit 0 means rrsync would
// have run rsync, anything else that it refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ClientFamily = 'rsync' | 'openrsync';
export interface Client {
  name: string;
  bin: string;
  family: ClientFamily;
  /** The protocol the client speaks by default (its --version line). */
  protocol: number;
  /** Where it runs. */
  seenOn: string;
  /** False where the client sends -H but cannot keep hard links (openrsync 91.0.6's hardlinks.c is empty): they arrive as copies. */
  hardLinks: boolean;
}

const cache = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'clients');
const built = (name: string) => join(cache, name, 'bin', 'rsync');

/** Every client in use; the built ones exist after `bash scripts/clients.sh` (npm's pretest runs it). */
export const CLIENTS: readonly Client[] = [
  { name: 'openrsync-91.0.6', bin: built('openrsync-91.0.6'), family: 'openrsync', protocol: 29, seenOn: 'macOS 15.0', hardLinks: false },
  { name: 'openrsync-146', bin: built('openrsync-146'), family: 'openrsync', protocol: 29, seenOn: 'macOS 15.x', hardLinks: true },
  { name: 'openrsync-182', bin: built('openrsync-182'), family: 'openrsync', protocol: 29, seenOn: 'macOS 26.x', hardLinks: true },
  { name: 'apple-rsync-2.6.9', bin: built('apple-rsync-2.6.9'), family: 'rsync', protocol: 29, seenOn: 'macOS up to 14', hardLinks: true },
  { name: 'rsync-3.0.9', bin: built('rsync-3.0.9'), family: 'rsync', protocol: 30, seenOn: 'RHEL 6 and 7', hardLinks: true },
  { name: 'rsync-3.1.3', bin: built('rsync-3.1.3'), family: 'rsync', protocol: 31, seenOn: 'RHEL 8', hardLinks: true },
  { name: 'rsync-3.2.7', bin: built('rsync-3.2.7'), family: 'rsync', protocol: 32, seenOn: 'Debian 12', hardLinks: true },
  { name: 'rsync-system', bin: '/usr/bin/rsync', family: 'rsync', protocol: 32, seenOn: 'this machine (the project\'s current rsync)', hardLinks: true },
];

/** The table's clients, failing loudly (never skipping) when one was not built. */
export function clients(): readonly Client[] {
  const missing = CLIENTS.filter((c) => !existsSync(c.bin)).map((c) => c.name);
  if (missing.length > 0) throw new Error(`clients not built: ${missing.join(', ')}; run bash scripts/clients.sh (npm's pretest does)`);
  return CLIENTS;
}

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
export function recordClientCommand(args: readonly string[], cwd = work, bin = '/usr/bin/rsync'): string {
  const out = join(work, `out-${counter++}`);
  const real = args.map((a) => a.replace(/^H:/, 'root@h:'));
  spawnSync(bin, ['-e', recorder, ...real], { cwd, env: { PATH: '/usr/bin:/bin', GK_RECORD_OUT: out }, stdio: 'ignore' });
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

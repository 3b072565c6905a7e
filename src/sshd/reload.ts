// Make the running sshd re-read its configuration, the safe way: only after
// `sshd -t` passed (callers guarantee that), through systemd when sshd is a
// running systemd unit, else SIGHUP to the pid in sshd's PidFile (what the
// original setup did by hand). A SIGHUP'd sshd re-executes itself, so a bad
// config would take it down: hence validation first, always.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { run } from './run.js';

export const SYSTEMCTL = '/usr/bin/systemctl';
/** Debian/Ubuntu call the unit ssh, RHEL and most others sshd. */
export const SSHD_UNITS = ['ssh.service', 'sshd.service'];

export interface ReloadOptions {
  /** sshd's PidFile (from `sshd -T`), used when systemd does not run sshd. */
  pidFile: string | undefined;
  /** The sshd binary, to check that the PidFile's pid is really an sshd. */
  sshd: string;
  systemctl?: string;
}

export type ReloadResult = { how: 'systemd'; unit: string } | { how: 'sighup'; pid: number } | { how: 'none'; why: string };

export async function reloadSshd(opts: ReloadOptions): Promise<ReloadResult> {
  const systemctl = opts.systemctl ?? SYSTEMCTL;
  // /run/systemd/system exists only when systemd is PID 1 (sd_booted(3)).
  if (existsSync('/run/systemd/system') && existsSync(systemctl)) {
    for (const unit of SSHD_UNITS) {
      const active = await run(systemctl, ['is-active', '--quiet', unit]);
      if (active.code === 0) {
        const r = await run(systemctl, ['reload', unit]);
        if (r.code !== 0) throw new Error(`systemctl reload ${unit} failed: ${(r.stderr || r.stdout).trim()}`);
        return { how: 'systemd', unit };
      }
    }
    // Inactive units (e.g. socket-activated ssh.socket) read the file per connection.
  }
  const pid = readPid(opts.pidFile);
  if (pid === null) return { how: 'none', why: `no running sshd found (no systemd unit active, no pid in ${opts.pidFile ?? 'PidFile'}); new connections read the new configuration when sshd starts` };
  if (!looksLikeSshd(pid, opts.sshd)) return { how: 'none', why: `pid ${pid} from ${opts.pidFile} is not ${opts.sshd}; not signalling it` };
  process.kill(pid, 'SIGHUP');
  return { how: 'sighup', pid };
}

function readPid(pidFile: string | undefined): number | null {
  if (!pidFile || pidFile === 'none') return null;
  try {
    const text = readFileSync(pidFile, 'utf8').trim();
    if (!/^\d+$/.test(text)) return null;
    const pid = Number(text);
    return pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** A stale PidFile can name an unrelated process: check /proc/PID/exe before signalling. */
function looksLikeSshd(pid: number, sshd: string): boolean {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    return exe === sshd || exe.endsWith('/sshd');
  } catch {
    return false;
  }
}

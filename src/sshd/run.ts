// Ask the real sshd. Our parser only places edits; whether a file is valid
// and what it means for a given user is what `sshd -t` / `sshd -T -C` say.
// execFile with an absolute path, never a shell.
import { execFile } from 'node:child_process';
import { canonicalPermitRootLogin } from './config.js';

export const DEFAULT_SSHD = '/usr/sbin/sshd';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all. */
  error?: string;
}

/** Run an absolute program without a shell; never throws. */
export function run(file: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  if (!file.startsWith('/')) return Promise.resolve({ code: null, stdout: '', stderr: '', error: `${file} is not an absolute path` });
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 << 20, env: opts.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        if (e && typeof e.code === 'string') {
          resolve({ code: null, stdout, stderr, error: `${file}: ${e.message}` });
          return;
        }
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** `sshd -t -f FILE`: does sshd accept this configuration? */
export async function sshdTest(sshd: string, config: string): Promise<{ ok: boolean; message: string }> {
  const r = await run(sshd, ['-t', '-f', config]);
  if (r.error) return { ok: false, message: r.error };
  return { ok: r.code === 0, message: (r.stderr || r.stdout).trim() };
}

/** Connection parameters for `sshd -T -C`. */
export interface MatchSpec {
  user: string;
  host?: string;
  addr?: string;
}

export type Effective = Map<string, string[]>;

/** Parse `sshd -T` output: lower-cased keyword → every value printed for it. */
export function parseEffective(text: string): Effective {
  const out: Effective = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const kw = (m[1] ?? '').toLowerCase();
    out.set(kw, [...(out.get(kw) ?? []), m[2] ?? '']);
  }
  return out;
}

/**
 * `sshd -T [-C user=…,host=…,addr=…] -f FILE`: the effective settings, with
 * Match blocks applied when a connection is given (without one, the global
 * values only).
 */
export async function sshdEffective(sshd: string, config: string, match?: MatchSpec): Promise<Effective | { error: string }> {
  const args = ['-T'];
  if (match) args.push('-C', `user=${match.user},host=${match.host ?? 'localhost'},addr=${match.addr ?? '127.0.0.1'}`);
  args.push('-f', config);
  const r = await run(sshd, args);
  if (r.error) return { error: r.error };
  if (r.code !== 0) return { error: (r.stderr || r.stdout).trim() || `sshd -T exited with ${r.code}` };
  return parseEffective(r.stdout);
}

export function effectiveValue(eff: Effective, kw: string): string | undefined {
  return eff.get(kw.toLowerCase())?.[0];
}

export const effectivePermitRootLogin = (eff: Effective): string | undefined => {
  const v = effectiveValue(eff, 'permitrootlogin');
  return v === undefined ? undefined : canonicalPermitRootLogin(v);
};

export interface SshdVersion {
  major: number;
  minor: number;
  text: string;
}

/** `sshd -V` (older sshd print the same banner in their usage message). */
export async function sshdVersion(sshd: string): Promise<SshdVersion | null> {
  const r = await run(sshd, ['-V']);
  return parseSshdVersion(`${r.stderr}\n${r.stdout}`);
}

export function parseSshdVersion(text: string): SshdVersion | null {
  const m = /OpenSSH_(\d+)\.(\d+)\S*/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), text: m[0] } : null;
}

/** The `restrict` option exists since OpenSSH 7.2. */
export const supportsRestrict = (v: SshdVersion | null): boolean => v === null || v.major > 7 || (v.major === 7 && v.minor >= 2);

/**
 * sshd reads expiry-time="…Z" as UTC since OpenSSH 9.1 (2022, bz3468); an
 * older one rejects the value, and with it the whole authorized_keys line.
 * An unknown version is assumed current, as for supportsRestrict.
 */
export const supportsUtcExpiry = (v: SshdVersion | null): boolean => v === null || v.major > 9 || (v.major === 9 && v.minor >= 1);

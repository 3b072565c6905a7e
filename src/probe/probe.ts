// `gatekeeper probe`: the backup machine's side. Walks the connection in the
// order it goes and stops at the first failure, naming it and its fix:
//   connect → host key → key accepted → forced command (the gate, not a shell)
//   → a clean channel → what the gate tells this key (describe) → what this
//   client's rsync would send, as the gate judges it (check) → rsync versions.
// Never loaded by the gate. Runs ssh and rsync only, never a shell.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DescribeSchema, type Describe } from '../describe/schema.js';
import { quoteWords } from '../shell/tokenize.js';

export const EX_OK = 0;
export const EX_NOHOST = 68;
export const EX_UNAVAILABLE = 69;
export const EX_PROTOCOL = 76;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

export interface Step {
  step: 'connect' | 'host-key' | 'key' | 'forced-command' | 'clean-channel' | 'describe' | 'gate-verdict' | 'versions' | 'ok';
  ok: boolean;
  /** One line: what was found, and the fix when it failed. */
  line: string;
}

export interface ProbeResult {
  steps: Step[];
  code: number;
  describe?: Describe;
  command?: string;
}

export interface Target {
  user: string;
  host: string;
  /** A path (HOST:PATH), a module (HOST::MODULE) or neither. */
  path: string | null;
  module: string | null;
}

export function parseTarget(text: string): Target | null {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s]+)(?:(::)(\S*)|:(\S*))?$/.exec(text);
  if (!m) return null;
  return { user: m[1] ?? 'root', host: m[2]!, module: m[3] ? m[4] || '' : null, path: m[3] ? null : (m[5] ?? null) };
}

/** rsync's -e: a program and its options, split on white space (rsync honours quotes too; we keep to plain words). */
export function splitShell(e: string): string[] {
  return e.trim().split(/\s+/).filter(Boolean);
}

interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function runSsh(shell: string[], dest: string, remote: string[]): Ran {
  // ssh keeps the first value of an option: ours go first, so BatchMode holds whatever -e says.
  const argv = ['-o', 'BatchMode=yes', ...shell.slice(1), dest, ...remote];
  const r = spawnSync(shell[0]!, argv, { input: '', timeout: 60_000, maxBuffer: 1 << 20 });
  return { code: r.status, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr?.toString('utf8') ?? '' };
}

const firstLine = (s: string) => s.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
const gateLine = (s: string) => s.split('\n').find((l) => l.startsWith('gatekeeper: ')) ?? null;

/** The ssh-level failure in stderr, as a step, or null when ssh got through. */
export function sshFailure(stderr: string, hostPort: string): { step: Step; code: number } | null {
  const fail = (step: Step['step'], line: string, code: number) => ({ step: { step, ok: false, line }, code });
  if (/Connection refused/i.test(stderr)) return fail('connect', `cannot connect to ${hostPort}: connection refused (is sshd running and listening there? check the port, -e "ssh -p PORT", and the firewall)`, EX_UNAVAILABLE);
  if (/timed out/i.test(stderr)) return fail('connect', `cannot connect to ${hostPort}: timed out (a firewall dropping packets, or the wrong address)`, EX_UNAVAILABLE);
  if (/No route to host|Network is unreachable/i.test(stderr)) return fail('connect', `cannot connect to ${hostPort}: no route to host (check the address and the network)`, EX_UNAVAILABLE);
  if (/Could not resolve hostname/i.test(stderr)) return fail('connect', `cannot connect: ${firstLine(stderr)}`, EX_NOHOST);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
    return fail('host-key', `the server's host key changed since it was pinned (a reinstalled server, or someone in between): verify the new fingerprint out of band, then replace its line in the known_hosts file (ssh-keygen -R HOST -f FILE)`, EX_NOPERM);
  }
  if (/Host key verification failed|No .* host key is known/i.test(stderr)) {
    return fail('host-key', `the server's host key is unknown here: pin it (gatekeeper enroll does, over the admin login; or ssh-keyscan, checked against ssh-keygen -lf on the server) in the known_hosts file -e uses`, EX_NOPERM);
  }
  if (/Permission denied \(/i.test(stderr)) {
    return fail('key', `sshd refused the key (${firstLine(stderr)}): it is not in the user's authorized_keys, or PermitRootLogin forbids it; on the server: gatekeeper install --policy NAME --key KEY.pub (it sets PermitRootLogin forced-commands-only)`, EX_NOPERM);
  }
  return null;
}

/** Quote the first bytes of unexpected output, visibly. */
export function quoteBytes(b: Buffer, max = 40): string {
  return JSON.stringify(b.subarray(0, max).toString('latin1')) + (b.length > max ? '…' : '');
}

export function parseRsyncVersion(text: string): { version: string | null; protocol: number | null } {
  const m = /version\s+v?(\S+)\s+protocol version\s+(\d+)/.exec(text);
  return m ? { version: m[1]!, protocol: Number(m[2]) } : { version: null, protocol: null };
}

/** The oldest protocol rsync 3.x still speaks (MIN_PROTOCOL_VERSION). */
const MIN_PROTOCOL = 20;

/** What the local rsync would send for these arguments: a recording -e (it writes the remote command and exits). */
export function recordRemoteCommand(rsync: string, args: readonly string[]): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'gk-probe-'));
  chmodSync(dir, 0o700);
  try {
    const rec = join(dir, 'record');
    const out = join(dir, 'out');
    // rsync runs: RECORDER [-l USER] HOST COMMAND...; the recorder keeps the words after the host.
    writeFileSync(rec, `#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in -l) shift 2;; *) break;; esac; done\nshift\nprintf '%s' "$*" > '${out}'\nexit 1\n`, { mode: 0o700 });
    spawnSync(rsync, ['-e', rec, ...args], { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' }, cwd: dir, timeout: 30_000 });
    return existsSync(out) ? readFileSync(out, 'utf8') : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ProbeOptions {
  shell: string;
  target: Target;
  /** Probe a push (SRC → HOST:PATH) instead of a pull. */
  push: boolean;
  rsync: string;
}

export function probe(o: ProbeOptions): ProbeResult {
  const steps: Step[] = [];
  const shell = splitShell(o.shell);
  const t = o.target;
  const dest = `${t.user}@${t.host.replace(/^\[|\]$/g, '')}`;
  const portWord = shell.indexOf('-p');
  const hostPort = `${t.host}${portWord >= 0 ? ` port ${shell[portWord + 1]}` : ''}`;
  const done = (code: number, extra: Partial<ProbeResult> = {}): ProbeResult => ({ steps, code, ...extra });

  // 1–4: connect, host key, key, and is it the gate? A command the gate refuses and a shell runs.
  const marker = `gatekeeper-probe-${randomBytes(6).toString('hex')}`;
  const echo = runSsh(shell, dest, ['echo', marker]);
  const ssh = sshFailure(echo.stderr, hostPort);
  if (ssh) {
    for (const s of ['connect', 'host-key', 'key'] as const) {
      if (s === ssh.step.step) break;
      steps.push({ step: s, ok: true, line: okLine(s, hostPort) });
    }
    steps.push(ssh.step);
    return done(ssh.code);
  }
  if (echo.code === 255) {
    steps.push({ step: 'connect', ok: false, line: `ssh failed: ${firstLine(echo.stderr) || 'exit 255'}` });
    return done(EX_UNAVAILABLE);
  }
  for (const s of ['connect', 'host-key', 'key'] as const) steps.push({ step: s, ok: true, line: okLine(s, hostPort) });
  const out = echo.stdout.toString('latin1');
  if (out.includes(marker)) {
    steps.push({ step: 'forced-command', ok: false, line: 'the key opens a shell, not the gate: its authorized_keys line has no command="…gatekeeper gate --policy NAME"; on the server: gatekeeper install --policy NAME --key KEY.pub' });
    return done(EX_CONFIG);
  }
  if (echo.stdout.length > 0) {
    steps.push({ step: 'forced-command', ok: true, line: 'a forced command answers' });
    steps.push({ step: 'clean-channel', ok: false, line: `bytes before the gate's answer (rsync would say "protocol version mismatch -- is your shell clean?"): ${quoteBytes(echo.stdout)}; something writes to stdout first: a wrapper in command="…", an rc file (~/.ssh/rc, /etc/ssh/sshrc) or a banner; make it write to stderr or remove it` });
    return done(EX_PROTOCOL);
  }
  if (echo.code !== 77 || !gateLine(echo.stderr)) {
    steps.push({ step: 'forced-command', ok: false, line: `a forced command answers, but not the gate (exit ${echo.code}, ${JSON.stringify(firstLine(echo.stderr))}): point the key's command= at gatekeeper gate --policy NAME` });
    return done(EX_CONFIG);
  }
  steps.push({ step: 'forced-command', ok: true, line: 'the key runs the gate (it refused a stray command, as it should)' });
  steps.push({ step: 'clean-channel', ok: true, line: 'nothing on stdout before the gate answers' });

  // 5: what the gate tells this key.
  const d = runSsh(shell, dest, ['gatekeeper', 'describe', '--json']);
  let facts: Describe | undefined;
  if (d.code === 0) {
    try {
      facts = DescribeSchema.parse(JSON.parse(d.stdout.toString('utf8')));
    } catch {
      steps.push({ step: 'describe', ok: false, line: `the gate's describe answer is not one this probe reads: ${quoteBytes(d.stdout)} (a different gatekeeper version?)` });
      return done(EX_PROTOCOL);
    }
    steps.push({ step: 'describe', ok: true, line: `policy ${facts.policy.name} on ${facts.host}: ${facts.daemon ? `daemon modules ${facts.daemon.modules.join(', ')}` : `${facts.access} under ${facts.root}`}` });
  } else {
    const why = gateLine(d.stderr) ?? firstLine(d.stderr);
    if (/"from" list/.test(why)) {
      steps.push({ step: 'gate-verdict', ok: false, line: `the gate refuses this client's address: ${why.replace(/^gatekeeper: /, '')}; add it to the policy's from list, or connect from an address in it` });
      return done(EX_NOPERM);
    }
    steps.push({ step: 'describe', ok: true, line: `the policy does not describe itself (describe: false): ${why.replace(/^gatekeeper: /, '')}` });
  }

  // 6: what this client's rsync would send, as the gate judges it.
  const remote = t.module !== null ? `${dest}::${t.module}` : `${dest}:${t.path ?? (facts?.root ?? '/')}`;
  const args = o.push ? ['-a', '--numeric-ids', './', remote] : ['-a', '--numeric-ids', '-x', '--delete', remote, './'];
  const sent = recordRemoteCommand(o.rsync, args);
  if (sent === null) {
    steps.push({ step: 'gate-verdict', ok: false, line: `the local rsync ${o.rsync} sent nothing for ${quoteWords(args)}` });
    return done(EX_CONFIG);
  }
  if (facts) {
    const c = runSsh(shell, dest, ['gatekeeper', 'check', '--json', '--', quoteWords([sent])]);
    let verdict: { decision?: string; reason?: string };
    try {
      verdict = JSON.parse(c.stdout.toString('utf8')) as typeof verdict;
    } catch {
      verdict = { decision: 'error', reason: firstLine(c.stderr) };
    }
    if (verdict.decision !== 'allow') {
      steps.push({ step: 'gate-verdict', ok: false, line: `the gate refuses what this rsync sends (${sent}): ${verdict.reason ?? '(no reason)'}` });
      return done(verdict.decision === 'error' ? EX_CONFIG : EX_NOPERM);
    }
    steps.push({ step: 'gate-verdict', ok: true, line: `the gate allows what this rsync sends: ${sent}` });
  }

  // 7: can the two rsyncs speak?
  const local = parseRsyncVersion(spawnSync(o.rsync, ['--version'], { encoding: 'utf8' }).stdout ?? '');
  const far = facts?.rsync ?? { version: null, protocol: null };
  const both = `here ${local.version ?? '?'} (protocol ${local.protocol ?? '?'}), there ${far.version ?? '?'} (protocol ${far.protocol ?? '?'})`;
  if (local.protocol !== null && far.protocol !== null && Math.min(local.protocol, far.protocol) < MIN_PROTOCOL) {
    steps.push({ step: 'versions', ok: false, line: `the two rsyncs cannot speak: ${both}; upgrade the older one` });
    return done(EX_PROTOCOL);
  }
  steps.push({ step: 'versions', ok: true, line: `rsync ${both}` });
  const command = `rsync -e ${quoteWords([o.shell])} ${quoteWords(args.map((a) => (a === './' ? (o.push ? 'SRC/' : 'DEST/') : a)))}`;
  steps.push({ step: 'ok', ok: true, line: `ok: use ${command}` });
  return done(EX_OK, { command, ...(facts ? { describe: facts } : {}) });
}

function okLine(s: 'connect' | 'host-key' | 'key', hostPort: string): string {
  return s === 'connect' ? `connected to ${hostPort}` : s === 'host-key' ? 'host key matches the pinned one' : 'sshd accepted the key';
}

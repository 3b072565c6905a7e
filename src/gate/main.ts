// The gate: sshd's forced command. One screen of data flow:
//
//   environment → session → policy → words → rsync arguments → decision
//     → log record → exec (or refusal on stderr)
//
// stdout is the rsync protocol channel: nothing here writes to it. Every
// message goes to stderr prefixed "gatekeeper:", which the rsync client shows.
import { writeSync, readlinkSync, realpathSync } from 'node:fs';
import { readSession, type Session } from '../session.js';
import { DEFAULT_POLICY_DIR } from '../policy/locate.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { targetProblem } from '../policy/target.js';
import { readDaemonModules } from '../policy/daemon-modules.js';
import { evaluate } from '../evaluate.js';
import { realFacts } from '../facts.js';
import { EX_CONFIG, EX_NOPERM, EX_OK, EX_SOFTWARE, EX_USAGE, GatekeeperError } from '../exit.js';
import type { GateEntry } from '../log/record.js';
import { RECORD_VERSION } from '../log/version.js';
import { openFileLog, sinkFor, type LogSink } from '../log/writer.js';
import { claimSlot, releaseSlot } from './slots.js';
import { DEFAULT_STATE_DIR } from '../paths.js';
import { execMethod, execReplace, runChild } from './exec.js';
import { identify } from './key.js';
import { loadGatePolicy } from './policy.js';
import { randomHex } from './random.js';
import { trustedCacheDir } from './cache.js';

const say = (msg: string) => {
  try {
    writeSync(2, `gatekeeper: ${msg}\n`);
  } catch {
    /* stderr gone: nothing else to tell */
  }
};

export interface GateArgs {
  policy: string;
  policyDir: string;
}

export function parseGateArgs(args: readonly string[]): GateArgs {
  let policy: string | undefined;
  let policyDir = DEFAULT_POLICY_DIR;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new GatekeeperError(`${flag} needs a value`, EX_USAGE, 'usage');
      return v;
    };
    if (flag === '--policy') policy = value();
    else if (flag === '--policy-dir') policyDir = value();
    else throw new GatekeeperError(`unknown gate argument "${a}" (usage: gatekeeper gate --policy NAME [--policy-dir DIR])`, EX_USAGE, 'usage');
  }
  if (!policy) throw new GatekeeperError('gate needs --policy NAME (usage: gatekeeper gate --policy NAME [--policy-dir DIR])', EX_USAGE, 'usage');
  return { policy, policyDir };
}

/** The minimal, fixed environment rsync runs with: nothing the client can influence. */
export function rsyncEnv(session: Session): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    // popt reads ~/.popt for option aliases: HOME must be a place no client can write.
    HOME: '/nonexistent',
  };
  if (session.user) env.USER = env.LOGNAME = session.user;
  return env;
}

export interface GateOptions {
  /** Root's cache directory when usable (trustedCacheDir()), else null. */
  cacheDir: string | null;
  /**
   * Writes the code cache of the gate's own code when it needs writing
   * (code-cache.ts). Called on the allow path only, after everything it runs
   * has run: a cache written by a refusal would lack most of that path.
   */
  saveCode?: () => void;
}

export async function gateMain(args: readonly string[], { cacheDir, saveCode = () => {} }: GateOptions = { cacheDir: trustedCacheDir() }): Promise<void> {
  const session = readSession(process.env);
  const pid = process.pid;
  const sessionId = randomHex(8);
  const { key, cert } = await identify(session.userAuthFile);
  let policyName = args[args.indexOf('--policy') + 1] ?? '(none)';
  let log: LogSink | null = null;
  let logTarget = '(none)';
  let family: GateEntry['family'];

  // pino adds level, time, pid and hostname (log/writer.ts).
  const record = (fields: Pick<GateEntry, 'event' | 'reason'> & Partial<GateEntry>): GateEntry => ({
    v: RECORD_VERSION,
    policy: policyName,
    session: sessionId,
    user: session.user,
    client: session.client,
    server: session.server,
    key,
    ...(cert ? { cert } : {}),
    command: session.originalCommand,
    argv: null,
    ...(family ? { family } : {}),
    ...fields,
  });

  // A log that fails once is not tried again: the client gets one line, not two.
  const writeLog = (r: GateEntry): void => {
    try {
      log!.write(r);
    } catch (e) {
      log = null;
      const err = e as NodeJS.ErrnoException;
      throw new GatekeeperError(`cannot write the log ${logTarget}: ${err.code ?? err.message}; refusing, since every session must be logged`, EX_CONFIG, 'log');
    }
  };

  const end = (code: number, message: string | null, fields?: Parameters<typeof record>[0]): never => {
    if (fields && log) {
      try {
        writeLog(record({ ...fields, status: code }));
      } catch (e) {
        const why = (e as Error).message;
        if (code === EX_NOPERM && message) message = `${message} (and ${why})`;
        else {
          code = EX_CONFIG;
          message = `configuration error: ${why}`;
        }
      }
    }
    if (message) say(message);
    process.exit(code);
  };

  try {
    const opts = parseGateArgs(args);
    policyName = opts.policy;
    const loaded = await loadGatePolicy(opts.policy, { policyDir: opts.policyDir, cacheDir });
    logTarget = loaded.policy.log;
    log = await openLog(loaded);
    const { policy } = loaded;

    // The key holder asking about its key (no command, `gatekeeper describe`,
    // `gatekeeper check -- CMD`): answered by a chunk of its own, never loaded
    // on the rsync path (describe.ts says what is told, to whom, on which stream).
    const asked = session.originalCommand;
    if (policy.describe && (asked === null || asked.startsWith('gatekeeper '))) {
      const { answerKeyHolder } = await import('./describe.js');
      const answer = answerKeyHolder(session, loaded, policyName, cacheDir);
      if (answer) {
        const fields: Parameters<typeof record>[0] = answer.refused
          ? { event: 'deny', reason: answer.refused.reason, code: answer.refused.code }
          : { event: 'describe', reason: answer.reason, code: answer.form };
        writeLog(record({ ...fields, status: answer.code }));
        log.close();
        writeAll(1, answer.stdout);
        writeAll(2, answer.stderr);
        process.exit(answer.code);
      }
    }

    // rsync-time-backup's questions about a source (`test -e PATH`, `df -T PATH`):
    // answered here, decided as a pull of that path; a chunk of its own (questions.ts).
    if (asked !== null && (asked.startsWith('test ') || asked.startsWith('df '))) {
      const { answerQuestion } = await import('./questions.js');
      const q = answerQuestion(session, policy, realFacts(policy.rsync, false, cacheDir));
      if (q?.verdict === 'deny') {
        if (q.status === EX_CONFIG) return end(EX_CONFIG, `configuration error: ${q.reason}`, { event: 'error', reason: q.reason, code: 'config' });
        return end(EX_NOPERM, `refused: ${q.reason}`, { event: 'deny', reason: q.reason, code: q.code });
      }
      if (q) {
        const fields: Parameters<typeof record>[0] = { event: 'answer', reason: q.reason, code: q.question, status: q.code };
        if (q.wouldDeny !== undefined) fields.wouldDeny = q.wouldDeny;
        writeLog(record(fields));
        log.close();
        writeAll(1, q.stdout);
        writeAll(2, q.stderr);
        process.exit(q.code);
      }
    }

    const facts = realFacts(policy.rsync, policy.root !== '/' && policy.confineRoot === 'auto', cacheDir);
    // Read only when a path asked of a daemon policy is refused: off the transfer's path.
    const daemonConfig = policy.daemon?.config;
    if (daemonConfig) facts.daemonModules = () => readDaemonModules(daemonConfig);
    const decision = evaluate(session, policy, facts);
    family = decision.family;
    if (decision.verdict === 'deny' && decision.code === 'config') {
      // A broken policy (its root is missing), not a refusal of the client: 78, as `check` reports it.
      return end(EX_CONFIG, `configuration error: ${decision.reason}`, { event: 'error', reason: decision.reason, code: 'config' });
    }
    if (decision.verdict === 'deny') {
      const fields: Parameters<typeof record>[0] = { event: 'deny', reason: decision.reason, code: decision.code, argv: decision.argv };
      if (decision.options) fields.options = decision.options;
      return end(EX_NOPERM, `refused: ${decision.reason}`, fields);
    }
    const waived = decision.waived.length
      ? { wouldDeny: decision.waived.map((r) => r.reason).join('; '), options: decision.waived.flatMap((r) => r.options ?? []) }
      : {};
    if (decision.argv.length === 0) return end(EX_OK, null, { event: 'allow', reason: decision.reason, code: 'true', ...waived });

    const problem = targetProblem(policy.rsync, policy.daemon?.config);
    if (problem) return end(EX_CONFIG, `configuration error: ${problem}`, { event: 'error', reason: problem, code: 'target', argv: decision.argv });

    // Enter the checked directory and make sure it is the one that was
    // checked: from here on rsync resolves sources from this inode, so a
    // component swapped for a symlink after the check no longer matters.
    const landed = enterDirectory(decision.cwd);
    if (landed !== decision.cwd) {
      const reason = `the directory ${decision.cwd} changed between the check and its use (now ${landed ?? 'gone'}); refusing (a symlink race?)`;
      return end(EX_NOPERM, `refused: ${reason}`, { event: 'deny', reason, code: 'path-changed', argv: decision.argv });
    }

    let slot: number | null = null;
    const slotDir = `${policy.stateDir}/${slotKey(loaded)}`;
    if (policy.maxConnections > 0) {
      slot = claimSlotOrExplain(slotDir, policy.stateDir, policy.maxConnections, pid, session.user);
      if (slot === null) {
        const reason = `busy: this policy allows ${policy.maxConnections} concurrent session${policy.maxConnections === 1 ? '' : 's'} and ${policy.maxConnections === 1 ? 'one is' : 'all are'} running; try again later`;
        return end(EX_NOPERM, `refused: ${reason}`, { event: 'deny', reason, code: 'busy', argv: decision.argv });
      }
    }

    const method = execMethod();
    const env = rsyncEnv(session);
    const allow: Parameters<typeof record>[0] = { event: 'allow', reason: decision.reason, code: 'allowed', argv: decision.argv, exec: method, ...waived };
    if (policy.transferLog) allow.transferLog = policy.transferLog;
    writeLog(record(allow));
    log.close();
    saveCode(); // execve skips exit: the gate's code has run, cache it now
    if (method === 'execve') execReplace(decision.argv, env);

    const outcome = await runChild(decision.argv, env);
    if (slot !== null) releaseSlot(slotDir, slot, pid);
    const status = outcome.status ?? 128 + signalNumber(outcome.signal);
    log = await openLog(loaded);
    const exitFields: Parameters<typeof record>[0] = {
      event: 'exit',
      reason: outcome.signal ? `rsync ended by ${outcome.signal}` : `rsync exited with status ${status}`,
      argv: decision.argv,
      exec: 'spawn',
      signal: outcome.signal,
    };
    if (outcome.pid !== undefined) exitFields.rsyncPid = outcome.pid;
    return end(status, null, exitFields);
  } catch (e) {
    if (e instanceof GatekeeperError) return end(e.exitCode, `${e.exitCode === EX_CONFIG ? 'configuration error: ' : ''}${e.message}`, { event: 'error', reason: e.message, code: e.code });
    const err = e as NodeJS.ErrnoException;
    // Failures to log or to read the configuration fail closed as configuration errors.
    const code = err.code && /^E[A-Z]+$/.test(err.code) ? EX_CONFIG : EX_SOFTWARE;
    return end(code, `${code === EX_CONFIG ? 'configuration error' : 'internal error'}: ${err.message}`, { event: 'error', reason: err.message, code: code === EX_CONFIG ? 'config' : 'internal' });
  }
}

/** Write all of `text` to a descriptor (a pipe may take it in parts). */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      return; // the client went away: nothing else to tell
    }
  }
}

async function openLog(loaded: LoadedPolicy): Promise<LogSink> {
  const target = loaded.policy.log;
  if (target === 'syslog') {
    const { sendToSyslog } = await import('../log/syslog.js');
    const socket = loaded.policy.syslogSocket;
    return sinkFor((line) => sendToSyslog(line, socket === undefined ? {} : { socket }));
  }
  try {
    return openFileLog(target);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'ENOENT' ? ` (create the directory ${target.slice(0, target.lastIndexOf('/'))}, or run gatekeeper install)` : '';
    throw new GatekeeperError(`cannot open the log ${target}: ${err.code ?? err.message}${hint}; refusing, since every session must be logged`, EX_CONFIG, 'log');
  }
}

/** claimSlot, with a state directory it cannot use reported as the policy's to fix. */
function claimSlotOrExplain(slotDir: string, stateDir: string, max: number, pid: number, user: string | null): number | null {
  try {
    return claimSlot(slotDir, max, pid);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!err.code || !/^E[A-Z]+$/.test(err.code)) throw e;
    const who = process.getuid?.() === 0 ? 'root' : `the user ${user ?? `uid ${process.getuid?.()}`}`;
    throw new GatekeeperError(
      `maxConnections keeps its slots in stateDir ${stateDir}, which ${who} cannot use (${err.message}); set stateDir in the policy to a directory ${who} can write (the default ${DEFAULT_STATE_DIR} is for keys that log in as root)`,
      EX_CONFIG,
      'state-dir',
    );
  }
}

function slotKey(loaded: LoadedPolicy): string {
  return loaded.file.replace(/^\//, '').replace(/[^A-Za-z0-9._-]/g, '_');
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return signal ? (table[signal] ?? 0) : 0;
}

/** chdir, then where the kernel says we are (null when the directory is gone). */
function enterDirectory(dir: string): string | null {
  try {
    process.chdir(dir);
  } catch {
    return null;
  }
  try {
    return readlinkSync('/proc/self/cwd');
  } catch {
    return realpathSync('.'); // no /proc: the C library asks the kernel the same question
  }
}

// The gate answering the key holder about its own key, without running
// anything: a chunk of its own (scripts/build.mjs), loaded only when one of
// these forms arrives, so the rsync path never parses it.
//
//   no command (ssh root@HOST)             → a welcome on stderr, exit 77
//   gatekeeper describe [--json]           → the same facts on stdout, exit 0
//   gatekeeper check [--json] -- 'CMD'     → the verdict for CMD, as `gatekeeper check` prints it
//
// Why stderr and 77 for the welcome: a session without a command is a shell
// request, and the shell is still refused (scripts that test "does this key
// open a shell?" keep their answer); ssh allocates a pty then, where stderr
// reaches the human just as well, and stderr never mixes with a protocol.
// The two named forms are commands the client asked for by name: their answer
// is their output, on stdout. No rsync client ever sends them (rsync's remote
// command always ends in its own server arguments, which these exact word
// lists do not allow), so stdout stays the rsync channel for rsync.
//
// Who hears it: only a key the policy admits (the forced command is this
// key's), from an address in the policy's `from` list (checked here first,
// even in a permissive policy). A policy turns all three off with
// `describe: false`; then they are decided like any other command.
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { Session } from '../session.js';
import type { LoadedPolicy, Policy } from '../policy/schema.js';
import type { Describe } from '../describe/schema.js';
import { DESCRIBE_VERSION } from '../describe/version.js';
import { tokenize } from '../shell/tokenize.js';
import { addressInList } from '../net.js';
import { evaluate } from '../evaluate.js';
import { realFacts } from '../facts.js';
import { targetProblem } from '../policy/target.js';
import { readDaemonModules } from '../policy/daemon-modules.js';
import { windowRefusal } from '../window.js';
import { checkReport } from '../check/report.js';
import { EX_NOPERM, EX_OK } from '../exit.js';
import { VERSION } from '../version.js';

export type Form = 'welcome' | 'describe' | 'check';

export interface Answer {
  form: Form;
  /** What the gate writes on stdout (the two named forms) and stderr (the welcome, or a check's configuration error). */
  stdout: string;
  stderr: string;
  code: number;
  /** The log record's reason. */
  reason: string;
  /** Set when the form itself is refused (its address is not in `from`): logged as a deny. */
  refused?: { code: string; reason: string };
}

type Parsed = { form: 'welcome' } | { form: 'describe'; json: boolean } | { form: 'check'; json: boolean; command: string };

/** The form a command is, or null when it is none of them (it is then decided as usual). */
export function parseForm(command: string | null): Parsed | null {
  if (command === null) return { form: 'welcome' };
  const t = tokenize(command);
  if (!t.ok || t.words[0] !== 'gatekeeper') return null;
  const w = t.words;
  if (w[1] === 'describe' && w.length === 2) return { form: 'describe', json: false };
  if (w[1] === 'describe' && w.length === 3 && w[2] === '--json') return { form: 'describe', json: true };
  if (w[1] === 'check') {
    const json = w[2] === '--json';
    const at = json ? 3 : 2;
    if (w[at] === '--' && w.length === at + 2 && w[at + 1] !== '') return { form: 'check', json, command: w[at + 1]! };
  }
  return null;
}

/** The version and protocol `rsync --version` reports ("rsync  version 3.2.7  protocol version 31"). */
export function parseRsyncVersion(text: string): { version: string | null; protocol: number | null } {
  const m = /version\s+v?(\S+)\s+protocol version\s+(\d+)/.exec(text);
  return m ? { version: m[1]!, protocol: Number(m[2]) } : { version: null, protocol: null };
}

function rsyncVersion(rsync: string): { version: string | null; protocol: number | null } {
  if (targetProblem(rsync, undefined)) return { version: null, protocol: null };
  try {
    const out = execFileSync(rsync, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' }, timeout: 5000, maxBuffer: 1 << 16 });
    return parseRsyncVersion(out.toString('utf8'));
  } catch {
    return { version: null, protocol: null };
  }
}

function hostPart(session: Session): string {
  const addr = session.server?.addr ?? hostname();
  return addr.includes(':') ? `[${addr}]` : addr;
}

/** A client command line this policy allows: the notes' options (archive, numeric ids, one file system, delete). */
export function clientCommand(policy: Policy, session: Session, modules: readonly string[] | null): string {
  const port = session.server && session.server.port !== 22 ? ` -p ${session.server.port}` : '';
  const shell = `-e "ssh -i KEY${port}"`;
  const dest = `${session.user ?? 'root'}@${hostPart(session)}`;
  const root = policy.root.endsWith('/') ? policy.root : `${policy.root}/`;
  if (modules !== null) return `rsync ${shell} -a --numeric-ids -x --delete ${dest}::${modules[0] ?? 'MODULE'}/ DEST/`;
  if (policy.access === 'write-only') return `rsync ${shell} -a --numeric-ids SRC/ ${dest}:${root}`;
  return `rsync ${shell} -a --numeric-ids -x --delete ${dest}:${root} DEST/`;
}

export function describeFacts(session: Session, loaded: LoadedPolicy, policyName: string, now: number): Describe {
  const { policy } = loaded;
  let modules: string[] | null = null;
  if (policy.daemon) {
    modules = readDaemonModules(policy.daemon.config) ?? [];
  }
  return {
    v: DESCRIBE_VERSION,
    gatekeeper: VERSION,
    host: hostname(),
    user: session.user,
    server: session.server,
    client: session.client?.addr ?? null,
    policy: { name: policyName, file: loaded.file, description: policy.description ?? null },
    access: policy.access,
    pull: !policy.daemon && policy.access !== 'write-only',
    push: !policy.daemon && policy.access !== 'read-only',
    daemon: modules === null ? null : { modules },
    root: policy.root,
    delete: policy.delete,
    window: policy.window
      ? { ranges: policy.window, timezone: policy.timezone ?? process.env.TZ ?? "the server's local time zone", open: windowRefusal(policy.window, policy.timezone, now) === null }
      : null,
    from: policy.from ?? null,
    rsync: { path: policy.rsync, ...rsyncVersion(policy.rsync) },
    command: clientCommand(policy, session, modules),
  };
}

/** The welcome: GitLab's `ssh git@host` convention, for the human at a terminal. */
export function welcomeText(d: Describe): string {
  const may = d.daemon
    ? `daemon modules only (rsync HOST::MODULE): ${d.daemon.modules.join(', ') || '(none found in the rsyncd.conf)'}`
    : [d.pull ? 'pull' : null, d.push ? `push${d.delete ? ' (deletions allowed)' : ' (no deletions)'}` : null].filter(Boolean).join(' and ') + ` under ${d.root}`;
  const lines = [
    `gatekeeper: welcome${d.user ? `, ${d.user}` : ''}: this key runs rsync only, not a shell. It may:`,
    `  host:    ${d.host}${d.server ? ` (${d.server.addr} port ${d.server.port})` : ''}`,
    `  policy:  ${d.policy.name}${d.policy.description ? ` — ${d.policy.description}` : ''}`,
    `  access:  ${d.access}: ${may}`,
    `  window:  ${d.window ? `${d.window.ranges.join(', ')} (${d.window.timezone}), ${d.window.open ? 'open now' : 'closed now'}` : 'any time'}`,
    `  from:    ${d.from ? d.from.join(', ') : 'any address'}${d.client ? ` (you are ${d.client})` : ''}`,
    `  rsync:   ${d.rsync.path}${d.rsync.version ? ` ${d.rsync.version}, protocol ${d.rsync.protocol}` : ' (no version answer)'}`,
    `  try:     ${d.command}`,
    `  more:    ssh … 'gatekeeper describe --json'; ssh … gatekeeper check -- "'CMD'" (the verdict for a command)`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The answer to a describe form, or null when the command is none (decide it as usual). */
export function answerKeyHolder(session: Session, loaded: LoadedPolicy, policyName: string, cacheDir: string | null): Answer | null {
  const parsed = parseForm(session.originalCommand);
  if (!parsed) return null;
  const { policy } = loaded;
  if (policy.from) {
    const addr = session.client?.addr;
    if (!addr || !addressInList(addr, policy.from)) {
      const reason = `client address ${addr ?? '(unknown: no SSH_CONNECTION)'} is not in the policy's "from" list`;
      return { form: parsed.form, stdout: '', stderr: `gatekeeper: refused: ${reason}\n`, code: EX_NOPERM, reason, refused: { code: 'from', reason } };
    }
  }
  const now = Date.now();
  if (parsed.form === 'check') {
    const inner: Session = { ...session, originalCommand: parsed.command };
    const facts = realFacts(policy.rsync, policy.root !== '/' && policy.confineRoot === 'auto', cacheDir);
    const daemonConfig = policy.daemon?.config;
    if (daemonConfig) facts.daemonModules = () => readDaemonModules(daemonConfig);
    facts.now = now;
    const d = evaluate(inner, policy, facts);
    const target = d.verdict === 'allow' && d.argv.length > 0 ? targetProblem(policy.rsync, policy.daemon?.config) : null;
    const r = checkReport(d, { json: parsed.json, file: loaded.file, policy, target });
    return { form: 'check', stdout: r.stdout, stderr: r.stderr, code: r.code, reason: `check for the key holder: ${r.decision}: ${target ?? d.reason} (for ${parsed.command})` };
  }
  const facts = describeFacts(session, loaded, policyName, now);
  if (parsed.form === 'describe') {
    return { form: 'describe', stdout: parsed.json ? `${JSON.stringify(facts)}\n` : welcomeText(facts), stderr: '', code: EX_OK, reason: 'described this key\'s policy to the key holder' };
  }
  return { form: 'welcome', stdout: '', stderr: welcomeText(facts), code: EX_NOPERM, reason: 'no command (a shell request): welcomed the key holder with what this key may do; no shell' };
}

// `gatekeeper check`: the gate's decision for a command, printed, never run.
import { evaluate } from '../evaluate.js';
import { realFacts } from '../facts.js';
import { adminPolicyArg, loadPolicy } from '../policy/load.js';
import { targetProblem } from '../policy/target.js';
import { EX_CONFIG, EX_NOPERM, EX_OK, EX_USAGE, GatekeeperError } from '../exit.js';
import { formatWallClock, parseAt, wallClock } from '../window.js';
import { quoteWords } from '../shell/tokenize.js';
import type { Session } from '../session.js';
import type { CheckOptions } from './options.js';

export async function runCheck(command: string, opts: CheckOptions): Promise<number> {
  let loaded;
  try {
    loaded = await loadPolicy(adminPolicyArg(opts.policy), { policyDir: opts.policyDir });
  } catch (e) {
    if (!(e instanceof GatekeeperError)) throw e;
    if (opts.json) process.stdout.write(`${JSON.stringify({ decision: 'error', reason: e.message, argv: null, policy: opts.policy })}\n`);
    else process.stderr.write(`gatekeeper: configuration error: ${e.message}\n`);
    return e.exitCode;
  }
  const session: Session = {
    originalCommand: command,
    client: opts.client ? { addr: opts.client, port: 0 } : null,
    server: null,
    user: opts.user ?? 'root',
    userAuthFile: null,
  };
  const { policy } = loaded;
  const facts = realFacts(policy.rsync, policy.root !== '/' && policy.confineRoot === 'auto');
  if (opts.at !== undefined) {
    // Without an offset, TIME is read in the policy's zone: the one its window is written in.
    const at = parseAt(opts.at, policy.timezone);
    if (!at.ok) {
      if (opts.json) process.stdout.write(`${JSON.stringify({ decision: 'error', reason: `--at: ${at.reason}`, argv: null, policy: loaded.file })}\n`);
      else process.stderr.write(`gatekeeper: --at: ${at.reason}\n`);
      return EX_USAGE;
    }
    facts.now = at.time;
  }
  const d = evaluate(session, policy, facts);
  // An allowed command whose rsync the gate could not start is the gate's
  // configuration error (78), not an allow.
  const target = d.verdict === 'allow' && d.argv.length > 0 ? targetProblem(policy.rsync, policy.daemon?.config) : null;
  if (target) {
    if (opts.json) process.stdout.write(`${JSON.stringify({ decision: 'error', reason: target, argv: d.argv, policy: loaded.file })}\n`);
    else process.stderr.write(`gatekeeper: configuration error: ${target} (the command itself would be allowed: ${d.reason})\n`);
    return EX_CONFIG;
  }
  const decision = d.verdict === 'allow' ? 'allow' : 'deny';
  if (opts.json) {
    const out: Record<string, unknown> = { decision, reason: d.reason, argv: d.argv, policy: loaded.file };
    if (d.verdict === 'deny') out.code = d.code;
    if (opts.at !== undefined) out.at = new Date(facts.now!).toISOString();
    if (d.verdict === 'allow' && d.waived.length) out.wouldDeny = d.waived.map((r) => r.reason);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`${decision === 'allow' ? 'ALLOW' : 'DENY'}  (policy ${loaded.file})\n`);
    if (opts.at !== undefined) process.stdout.write(`at: ${new Date(facts.now!).toISOString()}${policy.window ? ` = ${formatWallClock(wallClock(facts.now!, policy.timezone))} in ${wallClock(facts.now!, policy.timezone).zone}` : ' (this policy has no window: the time changes nothing)'}\n`);
    process.stdout.write(`reason: ${d.reason}\n`);
    // Only an allow runs anything: under a DENY, an argv would read as if something had run.
    if (d.verdict === 'allow' && d.argv.length) process.stdout.write(`would run: ${quoteWords(d.argv)}\n   in: ${d.cwd}\n`);
    if (d.verdict === 'allow' && d.waived.length) process.stdout.write(`permissive policy waived: ${d.waived.map((r) => r.reason).join('; ')}\n`);
  }
  return decision === 'allow' ? EX_OK : d.verdict === 'deny' && d.code === 'config' ? EX_CONFIG : EX_NOPERM;
}

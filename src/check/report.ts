// What `gatekeeper check` prints for a decision: shared by the admin's
// command (src/check/index.ts) and the key holder's `check --` form, answered
// by the gate itself (src/gate/describe.ts). Pure: text in, text out.
import type { Decision } from '../decide.js';
import type { Policy } from '../policy/schema.js';
import { EX_CONFIG, EX_NOPERM, EX_OK } from '../exit.js';
import { formatWallClock, wallClock } from '../window.js';
import { quoteWords } from '../shell/tokenize.js';

export interface CheckReport {
  stdout: string;
  stderr: string;
  code: number;
  /** allow, deny or error (what `--json` calls `decision`). */
  decision: 'allow' | 'deny' | 'error';
}

export interface ReportOptions {
  json: boolean;
  /** The policy file, as the report names it. */
  file: string;
  policy: Policy;
  /** The time decided for, when the caller chose it (`--at`). */
  at?: number;
  /** Why the allowed command's rsync could not start (targetProblem), when it could not. */
  target: string | null;
}

export function checkReport(d: Decision, o: ReportOptions): CheckReport {
  // An allowed command whose rsync the gate could not start is the gate's
  // configuration error (78), not an allow.
  if (o.target) {
    if (o.json) return { stdout: `${JSON.stringify({ decision: 'error', reason: o.target, argv: d.argv, policy: o.file })}\n`, stderr: '', code: EX_CONFIG, decision: 'error' };
    return { stdout: '', stderr: `gatekeeper: configuration error: ${o.target} (the command itself would be allowed: ${d.reason})\n`, code: EX_CONFIG, decision: 'error' };
  }
  const decision = d.verdict === 'allow' ? 'allow' : 'deny';
  const code = decision === 'allow' ? EX_OK : d.verdict === 'deny' && d.code === 'config' ? EX_CONFIG : EX_NOPERM;
  let out = '';
  if (o.json) {
    const obj: Record<string, unknown> = { decision, reason: d.reason, argv: d.argv, policy: o.file };
    if (d.verdict === 'deny') obj.code = d.code;
    if (o.at !== undefined) obj.at = new Date(o.at).toISOString();
    if (d.verdict === 'allow' && d.waived.length) obj.wouldDeny = d.waived.map((r) => r.reason);
    out = `${JSON.stringify(obj)}\n`;
  } else {
    out += `${decision === 'allow' ? 'ALLOW' : 'DENY'}  (policy ${o.file})\n`;
    if (o.at !== undefined) {
      const w = wallClock(o.at, o.policy.timezone);
      out += `at: ${new Date(o.at).toISOString()}${o.policy.window ? ` = ${formatWallClock(w)} in ${w.zone}` : ' (this policy has no window: the time changes nothing)'}\n`;
    }
    out += `reason: ${d.reason}\n`;
    // Only an allow runs anything: under a DENY, an argv would read as if something had run.
    if (d.verdict === 'allow' && d.argv.length) out += `would run: ${quoteWords(d.argv)}\n   in: ${d.cwd}\n`;
    if (d.verdict === 'allow' && d.waived.length) out += `permissive policy waived: ${d.waived.map((r) => r.reason).join('; ')}\n`;
  }
  return { stdout: out, stderr: '', code, decision };
}

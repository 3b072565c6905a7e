// `gatekeeper check`: the gate's decision for a command, printed, never run.
import { evaluate } from '../evaluate.js';
import { realFacts } from '../facts.js';
import { adminPolicyArg, loadPolicy } from '../policy/load.js';
import { readDaemonModules } from '../policy/daemon-modules.js';
import { targetProblem } from '../policy/target.js';
import { EX_USAGE, GatekeeperError } from '../exit.js';
import { parseAt } from '../window.js';
import { checkReport } from './report.js';
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
  const daemonConfig = policy.daemon?.config;
  if (daemonConfig) facts.daemonModules = () => readDaemonModules(daemonConfig);
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
  const target = d.verdict === 'allow' && d.argv.length > 0 ? targetProblem(policy.rsync, policy.daemon?.config) : null;
  const report = checkReport(d, { json: opts.json === true, file: loaded.file, policy, target, ...(opts.at !== undefined ? { at: facts.now! } : {}) });
  process.stdout.write(report.stdout);
  process.stderr.write(report.stderr);
  return report.code;
}

// `gatekeeper doctor`: options and help; the checks load when it runs.
import type { Command } from 'commander';
import { EX_NOPERM, EX_SOFTWARE } from '../exit.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .summary('diagnose the set-up: sshd settings, authorized_keys, the shell, policies, rsync, log, node')
    .description(
      'One line per check: ok / warn / fail, with the fix. Checks the effective sshd settings for the user (sshd -T -C; ' +
        'AcceptEnv is an allowlist: LANG and LC_* pass, TZ warns, anything else fails; PermitUserEnvironment fails unless no), ' +
        "the certificate set-up when sshd trusts a CA (install --ca: the CA file root's alone, each principals line parses and runs the gate, " +
        "AuthorizedPrincipalsFile set; an info line states that a certificate's own force-command must equal the line's command), " +
        "the gate's authorized_keys lines (environment= fails) and the modes along their path (fail where sshd's StrictModes refuses, warn where merely looser than 600/700), whether the login shell is clean (zero bytes on " +
        'stdout for `SHELL -c true`, as sshd runs it), each policy (valid, root-owned, rsync present, its version and protocol, ' +
        '--confine-root support; for a policy that allows pushes, whether its root is on a filesystem mounted nosuid, and nodev ' +
        'where device files can arrive), the log directory, and what runs the gate: the executable\'s embedded Node or the launcher\'s node, ' +
        'process.execve, and glibc (the executable needs 2.28 or later). Changes nothing. ' +
        'Exit: 0 when nothing fails, 78 when a check fails, 70 internal error.',
    )
    .option('--policy <name|path>', 'check this policy (default: every policy a gate line names)')
    .option('--policy-dir <dir>', 'policy directory (default /etc/gatekeeper/policies)')
    .option('--user <name>', 'the account the backup logs in as', 'root')
    .option('--sshd-config <path>', 'main sshd configuration file', '/etc/ssh/sshd_config')
    .option('--authorized-keys <path>', "authorized_keys to check (default: ~USER/.ssh/authorized_keys)")
    .option('--sshd <path>', 'the sshd binary (for sshd -T)', '/usr/sbin/sshd')
    .option('--json', 'print the checks as JSON')
    .option('--runtime', 'only print, as JSON, what runs gatekeeper here: the executable or node, its version, process.execve, glibc')
    .option('--in-use <path>', "only say whether a forced command runs PATH (root's authorized_keys, those install recorded, --authorized-keys): exit 0 when none does, 77 listing them (the packages' removal scripts ask this)")
    .option('--config-dir <dir>', "where install's manifest is (for --in-use)", '/etc/gatekeeper')
    .action(async (opts: { policy?: string; policyDir?: string; user: string; sshdConfig: string; authorizedKeys?: string; sshd: string; json?: boolean; runtime?: boolean; inUse?: string; configDir: string }) => {
      try {
        if (opts.inUse !== undefined) {
          const { forcedCommandsRunning } = await import('./in-use.js');
          const found = await forcedCommandsRunning(opts.inUse, opts.configDir, opts.authorizedKeys ? [opts.authorizedKeys] : []);
          for (const f of found) process.stdout.write(`${f.file}:${f.line}: command="${f.command}"\n`);
          process.exitCode = found.length ? EX_NOPERM : 0;
          return;
        }
        if (opts.runtime) {
          const { runtimeInfo } = await import('./checks.js');
          process.stdout.write(`${JSON.stringify(runtimeInfo())}\n`);
          return;
        }
        const { doctor } = await import('./doctor.js');
        const { code } = await doctor({ ...opts, json: opts.json ?? false, now: Date.now(), out: (s) => void process.stdout.write(s) });
        process.exitCode = code;
      } catch (e) {
        process.stderr.write(`gatekeeper: internal error: ${(e as Error).stack ?? String(e)}\n`);
        process.exitCode = EX_SOFTWARE;
      }
    });
}

import type { Command } from 'commander';
import type { CheckOptions } from './options.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('show what the gate would decide for a command, without running anything')
    .requiredOption('--policy <name|path>', 'policy name (in --policy-dir) or absolute path')
    .option('--policy-dir <dir>', 'where policy names are looked up', '/etc/gatekeeper/policies')
    .option('--json', 'print one JSON object {decision, reason, argv, policy}')
    .option('--client <addr>', 'client address to check the policy\'s "from" list against')
    .option('--user <name>', 'the SSH user', 'root')
    .option('--at <time>', "decide as if it were TIME (ISO 8601, e.g. 2026-12-02T03:30: without an offset, wall-clock time in the policy's timezone), to try a policy's window")
    .argument('<command...>', "the command as the client sends it (SSH_ORIGINAL_COMMAND); put it after --, quoted")
    .addHelpText('after', `
Example:
  gatekeeper check --policy system-backup -- 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /'
  gatekeeper check --policy system-backup --at 2026-12-02T14:00 -- 'rsync --server --sender -vlogDtprxze.iLsfxCIvu . /'

Exit status: 0 allowed, 77 refused, 78 configuration error, 64 usage error (a TIME that is not one).`)
    .action(async (words: string[], opts: CheckOptions) => {
      const { runCheck } = await import('./index.js');
      process.exitCode = await runCheck(words.join(' '), opts);
    });
}

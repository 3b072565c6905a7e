// `gatekeeper gate` in the CLI exists for --help; sshd's calls are
// dispatched in main.ts straight to gate/main.ts, without commander.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('gate')
    .description('the sshd forced command: vet SSH_ORIGINAL_COMMAND against a policy, log, and exec rsync')
    .requiredOption('--policy <name|path>', 'policy name (in --policy-dir) or absolute path of a policy file')
    .option('--policy-dir <dir>', 'where policy names are looked up', '/etc/gatekeeper/policies')
    .addHelpText(
      'after',
      `
Installed in authorized_keys as:
  restrict,command="/usr/local/bin/gatekeeper gate --policy NAME" ssh-ed25519 AAAA...

Reads SSH_ORIGINAL_COMMAND, SSH_CONNECTION, USER and SSH_USER_AUTH. Never
writes to stdout (the rsync protocol channel); refusals go to stderr.
Exit status: rsync's own when allowed; 77 refused, 78 configuration error,
70 internal error, 64 usage error.`,
    )
    .action(async (opts: { policy: string; policyDir: string }) => {
      const { gateMain } = await import('./main.js');
      await gateMain(['--policy', opts.policy, '--policy-dir', opts.policyDir]); // no code cache: this path is never sshd's
    });
}

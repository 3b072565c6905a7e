// `gatekeeper revoke`: options and help only; the implementation loads when the command runs.
import type { Command } from 'commander';
import { guarded } from '../exit.js';
import { DEFAULTS } from '../install/defaults.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command): void {
  program
    .command('revoke')
    .summary("add a key, or a certificate by serial or key ID, to sshd's RevokedKeys list (a KRL, through ssh-keygen -k -u)")
    .description(
      "Adds to the KRL sshd reads as RevokedKeys (default: the list `gatekeeper install --revoked-keys` recorded in " +
        'CONFIG-DIR/install-state.json): --key FILE revokes that key (a certificate file given to --key revokes that ' +
        'certificate); --serial N or --key-id ID with --ca CA.pub revoke the certificates that CA signed with that serial or key ID. ' +
        'Always through ssh-keygen -k -u, on a copy that ssh-keygen -Q checks before it replaces the list atomically; ' +
        'revoking what is revoked already changes nothing. sshd reads the list at every login: the next session is ' +
        'refused, no reload needed; sessions already open go on.\n' +
        'Exit: 0 done (or revoked already), 64 usage, 70 ssh-keygen failed (the list is unchanged), 77 not root, 78 no list configured, or the list is not a KRL or not root\'s alone.',
    )
    .option('--key <file|->', 'the public key (or certificate) to revoke, - for stdin')
    .option('--serial <n>', 'revoke the certificate with this serial (with --ca)')
    .option('--key-id <id>', 'revoke the certificates with this key ID (with --ca)')
    .option('--ca <file>', "the CA's public key, for --serial and --key-id")
    .option('--revoked-keys <file>', 'the KRL to add to (default: the one install --revoked-keys recorded)')
    .option('--config-dir <dir>', 'configuration directory (install-state.json)', DEFAULTS.configDir)
    .option('--sshd-config <path>', 'main sshd configuration file (to check that sshd reads the list)', DEFAULTS.sshdConfig)
    .option('--sshd <path>', 'the sshd binary (sshd -T)', DEFAULTS.sshd)
    .option('--dry-run', 'do everything on a copy and say what would change; change nothing')
    .option('--json', 'print on stdout one JSON object: {version, command, dryRun, changed, file, revoked: {kind, …}}; messages go to stderr')
    .action(async (opts: { key?: string; serial?: string; keyId?: string; ca?: string; revokedKeys?: string; configDir: string; sshdConfig: string; sshd: string; dryRun?: boolean; json?: boolean }) => {
      return guarded(async () => {
        const { revoke } = await import('./revoke.js');
        return revoke({
          ...opts,
          dryRun: opts.dryRun ?? false,
          json: opts.json ?? false,
          out: (s) => void process.stdout.write(s),
          err: (s) => void process.stderr.write(s),
          readStdin,
        });
      });
    });
}

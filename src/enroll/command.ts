import type { Command } from 'commander';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('enroll')
    .description('on the backup machine: enroll a server in one command: a key, the pinned host key, the server side over the admin login, the storage, a probe and a dry-run pull, a nightly timer')
    .argument('<target>', 'USER@SERVER[:PATH] or USER@SERVER::MODULE, as rsync takes it (PATH defaults to the policy\'s root)')
    .requiredOption('--policy <name>', "the policy the server's install gives the new key")
    .option('-e, --rsh <ssh>', "the ssh command for the backup key's connections, as rsync -e takes it (plain words: program, -p PORT, -o OPTION=VALUE ...); enroll puts -i KEY, IdentitiesOnly=yes, StrictHostKeyChecking=yes and its own known_hosts first", 'ssh')
    .option('--via <admin@server>', "the admin's existing login the server side is installed over (sudo -n when not root; default: the target)")
    .option('--via-e <ssh>', 'the ssh command for the admin login', 'ssh')
    .option('--install-arg <arg>', "an option passed to the server's gatekeeper install (repeatable; its path options also go to uninstall)", collect, [] as string[])
    .option('--server-gatekeeper <command>', 'how the admin login runs gatekeeper on the server (plain words); a single absolute path that does not run there gets the executable copied to it', '/usr/local/bin/gatekeeper')
    .option('--executable <file>', 'the self-contained linux executable to copy to a server that has none (default: this one, when it is the executable)')
    .option('--key-dir <dir>', 'where the key, the known_hosts file and the enroll record live', '/etc/gatekeeper/backup')
    .option('--storage <dir>', 'the backups go to STORAGE/HOST (0700)', '/backups')
    .option('--from <addr>', "the server accepts the key only from this address (install's --from)")
    .option('--schedule <HH:MM>', "when the nightly pull runs (inside the policy's window; default: the window's start, or 02:30)")
    .option('--cron', 'write a cron.d line instead of a systemd service and timer')
    .option('--unit-dir <dir>', 'where the units (or the cron line) go (default /etc/systemd/system, /etc/cron.d with --cron)')
    .option('--rsync <path>', 'the local rsync', '/usr/bin/rsync')
    .option('--dry-run', 'print all of it, change nothing on either machine')
    .option('--json', 'print {code, changed, dryRun, actions: [{what, action, detail}], command?, probe?, error?}')
    .addHelpText('after', `
The key has no passphrase: the pull runs unattended at night, and what the key
can do is bounded on the server by its policy (what it may read, from which
address, in which window), not by a secret typed by hand. For a passphrase,
protect the key with ssh-keygen -p -f KEY and run the pull from ssh-agent
(-e "ssh -o IdentityAgent=SOCKET"); the unit then needs that agent.

The host key is taken over the admin login (ssh verified that one against
the admin's own known_hosts): sshd -T there names the host keys sshd serves
(install's --sshd and --sshd-config when given) and their .pub files are
read; ssh-keyscan on the backup port must answer with those keys only, else
77, both fingerprints named, before anything is pinned or sent.

Enrolling twice changes nothing the second time. The units are written, not
enabled: systemctl daemon-reload && systemctl enable --now
gatekeeper-backup-HOST.timer.

A server with nothing runnable at --server-gatekeeper gets the executable, as
ssh-copy-id copies a key: uname -m must match the executable's architecture
(else 78, nothing sent), the bytes go on stdin to one fixed remote command,
install -m 0755 /dev/stdin PATH (sudo -n when not root), and PATH --version
there must then say what the local one says.

Exit status (sysexits): 0 done, 64 usage, 69 cannot connect, 77 refused (a
changed host key, a host key the server does not serve, a link where a
directory belongs), the probe's code when it fails, the server's install's
code when it fails; 78 the server's host keys unreadable over the admin
login, an executable that cannot be copied (none given, another
architecture).`)
    .action(async (target: string, opts: { rsh: string; policy: string; via?: string; viaE: string; installArg: string[]; serverGatekeeper: string; executable?: string; keyDir: string; storage: string; from?: string; schedule?: string; cron?: boolean; unitDir?: string; rsync: string; dryRun?: boolean; json?: boolean }) => {
      const { enroll } = await import('./enroll.js');
      const { printResult } = await import('./print.js');
      const { rsh, json, cron, dryRun, ...rest } = opts;
      const r = enroll({ ...rest, target, e: rsh, cron: cron === true, dryRun: dryRun === true });
      process.exitCode = printResult(r, json === true);
    });

  program
    .command('unenroll')
    .description('on the backup machine: undo enroll on both sides: the server\'s gate line (uninstall --key over the admin login), the key, the pinned host key, the units; the backups are kept')
    .argument('<host>', 'the server as enroll named it')
    .option('--key-dir <dir>', 'where enroll keeps its record', '/etc/gatekeeper/backup')
    .option('--dry-run', 'print what it would remove, change nothing')
    .option('--json', 'print one JSON object, as enroll does')
    .action(async (host: string, opts: { keyDir: string; dryRun?: boolean; json?: boolean }) => {
      const { unenroll } = await import('./enroll.js');
      const { printResult } = await import('./print.js');
      process.exitCode = printResult(unenroll({ host, keyDir: opts.keyDir, dryRun: opts.dryRun === true }), opts.json === true);
    });
}

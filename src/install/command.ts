// `gatekeeper install` and `gatekeeper uninstall`: options and help only; the
// implementations load when a command runs.
import type { Command } from 'commander';
import { EX_USAGE, GatekeeperError, guarded } from '../exit.js';
import { DEFAULTS as DEF } from './defaults.js';
import { CA_DEFAULTS } from './ca-defaults.js';
import type { CommonOptions } from './install.js';


const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
};

function checkPaths(...paths: (string | undefined)[]): void {
  for (const p of paths) if (p !== undefined && !p.startsWith('/')) throw new GatekeeperError(`not an absolute path: ${p}`, EX_USAGE, 'usage');
}


/** What the path options parse into (dryRun is absent unless given). */
type PathOpts = Omit<CommonOptions, 'out' | 'err' | 'dryRun'> & { dryRun?: boolean };

function pathOptions(cmd: Command): Command {
  return cmd
    .option('--user <name>', 'the account the backup logs in as', DEF.user)
    .option('--sshd-config <path>', 'main sshd configuration file', DEF.sshdConfig)
    .option('--authorized-keys <path>', "authorized_keys to edit (default: ~USER/.ssh/authorized_keys from the passwd entry)")
    .option('--prefix <dir>', 'install prefix: PREFIX/bin/gatekeeper and PREFIX/lib/gatekeeper', DEF.prefix)
    .option('--config-dir <dir>', 'configuration directory (policies/, install-state.json)', DEF.configDir)
    .option('--sshd <path>', 'the sshd binary used to validate (sshd -t, sshd -T)', DEF.sshd)
    .option('--dry-run', 'print a unified diff of every file it would change; change nothing')
    .option('--no-reload', 'do not reload sshd after changing its configuration')
    .option('--json', 'print on stdout one JSON object of what changed (or, with --dry-run, would change): {changed, files: [{path, type, action}], keys, reload}; messages go to stderr');
}

export function register(program: Command): void {
  pathOptions(
    program
      .command('install')
      .summary('deploy the gate and make a key run it (authorized_keys, sshd_config), safely')
      .description(
        'Run as root on the server. Deploys the gate under PREFIX, installs the policy into CONFIG-DIR/policies, ' +
          'adds `restrict,command="PREFIX/bin/gatekeeper gate --policy NAME" KEY` to the user\'s authorized_keys and, ' +
          "for root, makes sshd's effective PermitRootLogin forced-commands-only (validated with sshd -t and " +
          'sshd -T before anything is replaced), then reloads sshd. Idempotent; every write is atomic and recorded in ' +
          'CONFIG-DIR/install-state.json for `gatekeeper uninstall`. ' +
          'With --ca CA.pub --principal NAME instead of --key: trusts the SSH certificate authority (TrustedUserCAKeys, --ca-file) and maps each principal to ' +
          '`restrict,command="... gate --policy NAME"` in the user\'s principals file (AuthorizedPrincipalsFile, --principals-dir), with ExposeAuthInfo yes.\n' +
          'Exit: 0 done, 64 usage, 77 refused (not root, keys would be locked out without --yes, or a link or a foreign owner on the way to a user\'s authorized_keys), 78 configuration problem.',
      )
      .option('--policy <name|path>', 'policy name (CONFIG-DIR/policies or shipped) or an absolute policy file (required, except with --revoked-keys)')
      .option('--key <file|->', "the client's public key (ed25519 recommended), - for stdin (or --ca with --principal)"),
  )
    .option('--ca <file>', "trust this SSH certificate authority's public key (CA.pub) for --principal: a certificate it signed for one of them runs the gate with --policy (TrustedUserCAKeys, AuthorizedPrincipalsFile, ExposeAuthInfo yes)")
    .option('--principal <name,...>', "with --ca: certificate principals that get this policy and --from, one line each in the user's principals file; repeatable", list)
    .option('--ca-file <path>', `with --ca: the CA file gatekeeper owns, sshd's TrustedUserCAKeys (default ${CA_DEFAULTS.caFile})`)
    .option('--principals-dir <dir>', `with --ca: the principals files' directory, sshd's AuthorizedPrincipalsFile DIR/%u (default ${CA_DEFAULTS.principalsDir})`)
    .option('--revoked-keys <file>', "make sshd read FILE as RevokedKeys (created as an empty KRL with ssh-keygen -k when missing), for `gatekeeper revoke`; a call of its own, without --key, --ca and --policy")
    .option('--from <cidr,...>', 'only accept the key from these addresses (from="..."); repeatable', list)
    .option('--expires <when>', 'the key stops working then, in sshd itself (expiry-time="...", written in UTC): +90s, +30m, +4h, +7d, YYYYMMDD[HHMM[SS]][Z] or ISO 8601 (2027-01-31T18:00Z)')
    .option('--node <path>', 'absolute node binary the launcher runs (root-owned)', process.execPath)
    .option('--logrotate-dir <dir>', 'where the logrotate rule goes (default /etc/logrotate.d when logrotate is installed)')
    .option('--host <name>', 'host name to show in the client-side command')
    .option('--metrics-dir <dir>', "keep DIR/gatekeeper.prom (audit --metrics) fresh for node_exporter's textfile collector, every 5 minutes: a systemd timer, or a cron.d entry without systemd")
    .option('--systemd-dir <dir>', '--metrics-dir: write the systemd service and timer here (default /etc/systemd/system)')
    .option('--cron-dir <dir>', '--metrics-dir: write a cron.d entry here instead of systemd units (default /etc/cron.d without systemd)')
    .option('--report <file>', '--metrics-dir: the same schedule also writes the HTML report (audit --html FILE), atomically')
    .option('--yes', 'proceed even if keys without command= would be shut out')
    .action((opts: PathOpts & { policy?: string; key?: string; revokedKeys?: string; ca?: string; principal?: string[]; caFile?: string; principalsDir?: string; from?: string[]; expires?: string; node: string; logrotateDir?: string; host?: string; yes?: boolean; metricsDir?: string; systemdDir?: string; cronDir?: string; report?: string }) =>
      guarded(async () => {
        if (opts.revokedKeys !== undefined) {
          if (opts.key !== undefined || opts.policy !== undefined || opts.ca !== undefined) throw new GatekeeperError('install --revoked-keys is a call of its own: run it without --key, --ca and --policy', EX_USAGE, 'usage');
          const { installRevokedKeys } = await import('./revoked-keys.js');
          return installRevokedKeys({ ...opts, revokedKeys: opts.revokedKeys, ...io, dryRun: opts.dryRun ?? false });
        }
        if (opts.policy === undefined) throw new GatekeeperError('install needs --policy (with --key, or --ca and --principal), or --revoked-keys FILE', EX_USAGE, 'usage');
        const { policy } = opts;
        const { install } = await import('./install.js');
        return install({ ...opts, policy, ...io, dryRun: opts.dryRun ?? false, yes: opts.yes ?? false, readStdin, now: Date.now() });
      }),
    );

  const grant = program.command('grant').summary('time-boxed grants (restore)').description('Time-boxed grants; see `gatekeeper grant restore --help`.');
  pathOptions(
    grant
      .command('restore')
      .summary('let a key push into one directory for a while: a write-only policy, expiring in sshd itself')
      .description(
        'Installs (as `install` does, same options for where things are) a generated write-only policy ' +
          'CONFIG-DIR/policies/restore-TIME.yaml confined to --path, for --key, whose authorized_keys line carries ' +
          'expiry-time: sshd refuses the key once --for has passed, even if gatekeeper never runs again. ' +
          'setuid: keep (owners, setuid bits) only with --keep-owners; --delete only with --delete. The key must not ' +
          'have a line yet (a restore key of its own). `uninstall --expired` cleans up afterwards.\n' +
          'Exit: 0 done, 64 usage (or the key already has a line), 77 refused, 78 configuration problem.',
      )
      .requiredOption('--key <file|->', 'the restore client\'s public key, - for stdin')
      .requiredOption('--for <duration>', 'how long the grant lasts: 90s, 30m, 4h, 7d, 1d12h')
      .requiredOption('--path <dir>', 'the directory the client may push into (the policy\'s root)'),
  )
    .option('--from <cidr,...>', 'only accept the key from these addresses (from= and the policy\'s from); repeatable', list)
    .option('--keep-owners', 'a full-system restore: files keep the owners and setuid/setgid bits the client sends (setuid: keep)')
    .option('--delete', 'allow --delete, so the restored tree can be made identical to the backup')
    .option('--log <path>', "the gate's log for the grant's sessions (default /var/log/gatekeeper/gatekeeper.log)")
    .option('--node <path>', 'absolute node binary the launcher runs (root-owned)', process.execPath)
    .option('--logrotate-dir <dir>', 'where the logrotate rule goes (default /etc/logrotate.d when logrotate is installed)')
    .option('--host <name>', 'host name to show in the client-side command')
    .option('--yes', 'proceed even if keys without command= would be shut out')
    .action((opts: PathOpts & { key: string; for: string; path: string; from?: string[]; keepOwners?: boolean; delete?: boolean; log?: string; node: string; logrotateDir?: string; host?: string; yes?: boolean }) =>
      guarded(async () => {
        const { grantRestore } = await import('./grant.js');
        return grantRestore({ ...opts, ...io, dryRun: opts.dryRun ?? false, yes: opts.yes ?? false, keepOwners: opts.keepOwners ?? false, delete: opts.delete ?? false, readStdin, now: Date.now() });
      }),
    );

  pathOptions(
    program
      .command('uninstall')
      .summary('remove what install added (the key line, the sshd change, the deployed files)')
      .description(
        "Removes exactly what `gatekeeper install` recorded in CONFIG-DIR/install-state.json. --key FILE takes that key's " +
          "gate line out of authorized_keys (putting back the line it replaced); --expired does so for every key whose expiry-time has passed; --principal NAME and --ca CA.pub undo install --ca (the principal's line; the CA, with TrustedUserCAKeys after the last); --all also reverts the sshd_config change " +
          'and removes the launcher, the bundle, the logrotate rule and unchanged copied policies. A file nothing else ' +
          'changed since gets its original bytes back; otherwise only the lines install wrote are touched. Logs are kept.',
      )
      .option('--key <file|->', 'public key whose gate line to remove')
      .option('--principal <name,...>', "certificate principals whose lines install --ca wrote to remove from the user's principals file (the file goes with the last); repeatable", list)
      .option('--ca <file>', 'a CA install --ca added: take it out of the CA file (TrustedUserCAKeys goes with the last CA)')
      .option('--expired', 'remove the gate lines of every key whose expiry-time (install --expires) has passed')
      .option('--revoked-keys', 'take out the RevokedKeys line install --revoked-keys wrote (the list itself is kept)')
      .option('--all', 'remove everything install added'),
  ).action((opts: PathOpts & { key?: string; principal?: string[]; ca?: string; expired?: boolean; revokedKeys?: boolean; all?: boolean }) =>
    guarded(async () => {
      const { uninstall } = await import('./uninstall.js');
      return uninstall({ ...opts, ...io, all: opts.all ?? false, expired: opts.expired ?? false, now: Date.now(), dryRun: opts.dryRun ?? false, readStdin });
    }),
  );

  program
    .command('keys')
    .summary('list the keys install wired to the gate (what uninstall --key can remove)')
    .description(
      'Lists the keys `gatekeeper install` recorded in CONFIG-DIR/install-state.json: user, authorized_keys file, policy, ' +
        'fingerprint, the key itself, its from= addresses and expiry (expiry-time=), whether the line install wrote is still there, ' +
        'and whether the RevokedKeys list install recorded (install --revoked-keys) revokes it (ssh-keygen -Q). ' +
        'Changes nothing. --json prints {version, keys: [{user, file, policy, fingerprint, key, comment, from, present, expires, expired, revoked}], principals: [{user, file, name, policy, from, present}], cas: [{file, fingerprint, key}], revokedKeys} (revoked: null without a list; principals and cas: what install --ca recorded; revokedKeys: the list install --revoked-keys recorded, or null).',
    )
    .option('--config-dir <dir>', 'configuration directory (install-state.json)', DEF.configDir)
    .option('--user <name>', 'only the keys of this user')
    .option('--authorized-keys <path>', 'only the keys in this authorized_keys file')
    .option('--json', 'print one JSON object')
    .action((opts: { configDir: string; user?: string; authorizedKeys?: string; json?: boolean }) =>
      guarded(async () => {
        checkPaths(opts.configDir, opts.authorizedKeys);
        const { keysList } = await import('./keys-list.js');
        return keysList({ ...opts, json: opts.json ?? false, now: Date.now(), out: io.out, err: io.err });
      }),
    );
}

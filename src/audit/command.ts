// `gatekeeper audit`: options and help. The implementation (src/audit/run.ts)
// loads only when the command runs.
import { type Command, Option } from 'commander';
import { EX_USAGE } from '../exit.js';
import { CHECK_DEFAULTS } from './defaults.js';
import type { AuditOptions } from './run.js';

/** --check's answer when it cannot run (Monitoring Plugins: UNKNOWN). */
const PLUGIN_UNKNOWN = 3;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function register(program: Command): void {
  program
    .command('audit')
    .description('read what the gate logged: who ran what, what was refused and why, and whether backups finish')
    .option('--log <file|glob|->', 'a log to read (repeatable; "-" is stdin; .gz is read transparently); default: the logs of the installed policies and their rotated copies', collect)
    .option('--transfer-log <file|glob>', "rsync's --log-file (policy transferLog) to join by pid for bytes and exit status (repeatable); default: the installed policies' transferLog", collect)
    .option('--policy-dir <dir>', 'where the installed policies are', '/etc/gatekeeper/policies')
    .option('--since <when>', 'only records at or after: a duration back from now (90m, 36h, 3d, 2w) or an ISO date/time (local time unless it ends in Z or ±hh:mm)')
    .option('--until <when>', 'only records before (same forms as --since)')
    .option('--policy <name>', 'only this policy (repeatable)', collect)
    .addOption(new Option('--decision <kind>', 'only allow (with how those runs ended), deny, error, exit, describe (the gate answered the key holder), answer or grant (gatekeeper grant restore; repeatable)').argParser(collect))
    .option('--client <addr|cidr>', 'only this client address or network (repeatable)', collect)
    .option('--user <name>', 'only this SSH user (repeatable)', collect)
    .option('--host <name>', 'only this server (repeatable; shell wildcards * ? [...] match whole names, e.g. "web-*"; "-" a record with no host)', collect)
    .option('--key-id <pattern>', 'only sessions whose SSH certificate has this key ID (repeatable; shell wildcards * ? [...], case-sensitive, e.g. "backup@*"; "-" a session without a certificate)', collect)
    .option('--grep <text>', 'only records whose command, reason, policy, user, key or client contains this text (case-insensitive)')
    .option('--revoked-keys <file>', 'mark the sessions of keys and certificates this RevokedKeys list revokes now (default: the list install --revoked-keys recorded beside --policy-dir)')
    .option('--json', 'one JSON record per line, "revoked": true added to a session of a key revoked now (with --summary: one JSON object per policy and client, then one per grant)')
    .option('--summary', 'per host, policy and client: sessions allowed, refused and failed, first and last seen, last success, top refusals; then each restore grant with the sessions under it')
    .option('--suggest', 'the smallest policy change (YAML) that lets the refused commands through; always-refused options and sessions outside a backup window are listed, never suggested')
    .option('--stale <duration>', '--summary, --check, --html: flag a client whose last success is older than this', CHECK_DEFAULTS.stale)
    .option('--metrics', 'Prometheus text exposition per host, policy and client (for node_exporter\'s textfile collector)')
    .option('--output <file>', '--metrics: write to this file atomically (mode 0644) instead of stdout')
    .option('--lookback <duration>', '--metrics, --check: the window session and refusal counts cover (default 24h)')
    .option('--check', 'a monitoring-plugin check (Nagios, Icinga): exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('--refusals-warning <n>', `--check: WARNING when a client has more than N refusals in the look-back window (default ${CHECK_DEFAULTS.refusalsWarning})`)
    .option('--refusals-critical <n>', `--check: CRITICAL when a client has more than N refusals in the look-back window (default ${CHECK_DEFAULTS.refusalsCritical})`)
    .option('--history <duration>', `--check: a client with neither a success nor an allowed session within this long is retired, not stale (default ${CHECK_DEFAULTS.history})`)
    .option('--html <file|->', 'one self-contained HTML page (written atomically; "-" for stdout): the fleet in one line, a timeline of every host, policy and client over the last --days nights, refusals with what --suggest would change, the keys wired to the gate, the SSH certificates that came')
    .option('--days <n>', '--html: how many nights the timeline shows (default 30)')
    .option('--now <when>', 'compute as if it were this time (same forms as --since); default: the clock')
    .option('-f, --follow', 'keep printing records as they arrive, across log rotation (with --since: history first)')
    .addHelpText(
      'after',
      `
Examples:
  gatekeeper audit --since 1d
  gatekeeper audit --summary
  gatekeeper audit --decision deny --client 203.0.113.9 --json | jq .msg
  gatekeeper audit --suggest --policy system-backup
  journalctl -t gatekeeper -o json | gatekeeper audit --log -
  gatekeeper audit --log /var/log/gatekeeper/fleet.log --summary --host 'db-*'
  gatekeeper audit --key-id 'backup@*' --since 7d
  gatekeeper audit --follow
  gatekeeper audit --metrics --output /var/lib/prometheus/node-exporter/gatekeeper.prom
  gatekeeper audit --check --stale 26h --refusals-warning 0 --refusals-critical 10
  gatekeeper audit --html /var/www/backups.html --days 14

Each line may be the gate's own, a syslog line (rsyslog, also a central
collector's file of many hosts) or journald's JSON export. The table and the
summary get a HOST column when the records come from more than one host.
Times are shown in the local time zone (TZ). Lines that are not records (corrupt,
truncated, another schema version) are skipped and counted on stderr.
Exit status: 0 done, 64 usage error, 66 a named log cannot be read or no logs found,
73 --output or --html cannot be written. With --check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
(no readable log, no records, bad arguments).`,
    )
    .exitOverride((err) => {
      // commander's own usage errors: 64, or UNKNOWN for a monitoring-plugin check.
      if (err.exitCode === 0) process.exit(0);
      if (process.argv.includes('--check')) {
        process.stdout.write(`GATEKEEPER UNKNOWN - ${err.message.replace(/^error: /, '').replace(/[\n|]/g, ' ')}\n`);
        process.exit(PLUGIN_UNKNOWN);
      }
      process.exit(EX_USAGE);
    })
    .action(async (opts: AuditOptions) => {
      const [{ runAudit }, { restartWithSmallYoungGeneration }] = await Promise.all([import('./run.js'), import('./read/memory.js')]);
      process.exitCode = await runAudit(opts, { stdout: process.stdout, stderr: process.stderr, env: process.env, restartForBigRead: restartWithSmallYoungGeneration });
    });
}

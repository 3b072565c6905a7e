// `gatekeeper audit`: options and help. The implementation (src/audit/run.ts)
// loads only when the command runs.
import { type Command, Option } from 'commander';
import type { AuditOptions } from './run.js';

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
    .addOption(new Option('--decision <kind>', 'only allow (with how those runs ended), deny, error or exit (repeatable)').argParser(collect))
    .option('--client <addr|cidr>', 'only this client address or network (repeatable)', collect)
    .option('--user <name>', 'only this SSH user (repeatable)', collect)
    .option('--grep <text>', 'only records whose command, reason, policy, user, key or client contains this text (case-insensitive)')
    .option('--json', 'one JSON record per line (with --summary: one JSON object per policy and client)')
    .option('--summary', 'per policy and client: sessions allowed, refused and failed, first and last seen, last success, top refusals')
    .option('--suggest', 'the smallest policy change (YAML) that lets the refused commands through; always-refused options and sessions outside a backup window are listed, never suggested')
    .option('--stale <duration>', '--summary: flag a client whose last success is older than this', '26h')
    .option('-f, --follow', 'keep printing records as they arrive, across log rotation (with --since: history first)')
    .addHelpText(
      'after',
      `
Examples:
  gatekeeper audit --since 1d
  gatekeeper audit --summary
  gatekeeper audit --decision deny --client 203.0.113.9 --json | jq .reason
  gatekeeper audit --suggest --policy system-backup
  journalctl -t gatekeeper -o json | gatekeeper audit --log -
  gatekeeper audit --follow

Times are shown in the local time zone (TZ). Lines that are not records (corrupt,
truncated, another schema version) are skipped and counted on stderr.
Exit status: 0 done, 64 usage error, 66 a named log cannot be read or no logs found.`,
    )
    .action(async (opts: AuditOptions) => {
      const [{ runAudit }, { restartWithSmallYoungGeneration }] = await Promise.all([import('./run.js'), import('./memory.js')]);
      process.exitCode = await runAudit(opts, { stdout: process.stdout, stderr: process.stderr, env: process.env, restartForBigRead: restartWithSmallYoungGeneration });
    });
}

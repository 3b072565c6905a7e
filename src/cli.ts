// The admin-facing face: one commander subcommand per command folder. The
// gate itself is dispatched in main.ts before this file loads.
import { Command } from 'commander';
import { register as registerGate } from './gate/command.js';
import { register as registerCheck } from './check/command.js';
import { register as registerPolicy } from './policy/command.js';
import { register as registerAudit } from './audit/command.js';
import { register as registerInstall } from './install/command.js';
import { register as registerDoctor } from './doctor/command.js';
import { register as registerProbe } from './probe/command.js';
import { register as registerCompletion } from './completion/command.js';
import { register as registerEnroll } from './enroll/command.js';
import { register as registerRevoke } from './revoke/command.js';
import { VERSION } from './version.js';

/** The worker of audit's split read inside the executable runs this (src/audit/read/split.ts); loaded only there. */
export const auditPart = async (req: import('./audit/read/split.js').PartRequest, post: import('./audit/read/split.js').Post) => (await import('./audit/read/split.js')).runPart(req, post);

/**
 * A reader that goes away (`gatekeeper check … | head -1`) ends the command
 * quietly, as coreutils do: no stack trace, the status a process killed by
 * SIGPIPE has (128 + 13). Node ignores SIGPIPE, so the write fails with EPIPE
 * instead, reported on the stream.
 */
export function quietOnClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
}

/**
 * The whole commander tree, without parsing anything: runCli parses with it,
 * `completion` generates shell completion from it, and the man page test
 * (test/man) walks it to find commands and options without an entry.
 */
export function buildProgram(): Command {
  const program = new Command('gatekeeper')
    .description('Forced-command gatekeeper for rsync backups over SSH')
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride((err) => {
      // commander's own errors (unknown option, missing argument) are usage errors.
      process.exit(err.exitCode === 0 ? 0 : 64);
    });
  registerGate(program);
  registerCheck(program);
  registerPolicy(program);
  registerAudit(program);
  registerInstall(program);
  registerRevoke(program);
  registerDoctor(program);
  registerProbe(program);
  registerEnroll(program);
  registerCompletion(program);
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  quietOnClosedStdout();
  await buildProgram().parseAsync(argv);
}

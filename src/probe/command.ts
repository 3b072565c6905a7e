import type { Command } from 'commander';

export interface ProbeCliOptions {
  e: string;
  json?: boolean;
  push?: boolean;
  rsync: string;
}

export function register(program: Command): void {
  program
    .command('probe')
    .description("on the backup machine: why does the pull fail? walk the connection to the server's gate, stop at the first failure, name it and its fix")
    .argument('<target>', 'USER@SERVER[:PATH] or USER@SERVER::MODULE, as rsync takes it')
    .option('-e, --rsh <ssh>', 'the ssh command, as rsync -e takes it (plain words: program, -i KEY, -p PORT, -o OPTION=VALUE ...)', 'ssh')
    .option('--push', 'probe a push (SRC → SERVER:PATH) instead of a pull')
    .option('--rsync <path>', 'the local rsync whose remote command is checked', '/usr/bin/rsync')
    .option('--json', 'print {steps: [{step, ok, line}], code, command?} instead of one line per step')
    .addHelpText('after', `
Steps, in the order the connection goes: connect, host-key, key, forced-command,
clean-channel, describe, gate-verdict (what this rsync sends, as the gate's
\`check --\` form judges it), versions, ok. BatchMode is forced: nothing asks.

Exit status (sysexits): 0 ok, 64 usage, 68 unknown host, 69 cannot connect,
76 bytes before the gate's answer or rsyncs that cannot speak, 77 refused (host
key, key, the gate's verdict, "from"), 78 the key opens a shell or another
command, not the gate.`)
    .action(async (target: string, opts: { rsh: string; json?: boolean; push?: boolean; rsync: string }) => {
      const { runProbe } = await import('./run.js');
      process.exitCode = runProbe(target, { e: opts.rsh, rsync: opts.rsync, ...(opts.json ? { json: true } : {}), ...(opts.push ? { push: true } : {}) });
    });
}

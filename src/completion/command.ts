// `gatekeeper completion bash|zsh|fish`: prints a completion script generated from
// this very commander tree (the root the command is registered on).
import { Argument, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish) generated from these commands and options')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Packaged: /usr/share/bash-completion/completions/gatekeeper and, for zsh,
_gatekeeper in its site-functions, for fish
/usr/share/fish/vendor_completions.d/gatekeeper.fish. By hand:
  source <(gatekeeper completion bash)
  gatekeeper completion zsh > ~/.zfunc/_gatekeeper   # a directory in $fpath
  gatekeeper completion fish > ~/.config/fish/completions/gatekeeper.fish`,
    )
    .action(async (shell: string) => {
      const { completionScript } = await import('./index.js');
      const script = completionScript(program, shell);
      if (script === null) {
        process.stderr.write(`gatekeeper completion: unknown shell ${JSON.stringify(shell)}: bash, zsh or fish\n`);
        process.exitCode = 64;
        return;
      }
      process.stdout.write(script);
    });
}

import type { Command } from 'commander';

export function register(program: Command): void {
  const policy = program.command('policy').description('validate policy files, print their JSON Schema, list rsync options');
  policy
    .command('validate')
    .description('validate policies (names in --policy-dir or paths); exit 78 if any is invalid')
    .argument('[policies...]', 'policy names or absolute paths (default: every policy in --policy-dir)')
    .option('--policy-dir <dir>', 'where policy names are looked up', '/etc/gatekeeper/policies')
    .option('--no-trust', 'skip the owner/mode check of the path (for editing a copy as a normal user)')
    .action(async (names: string[], opts: { policyDir: string; trust: boolean }) => {
      const { validateCommand } = await import('./commands.js');
      process.exitCode = await validateCommand(names, opts);
    });
  policy
    .command('schema')
    .description('print the JSON Schema of policy files (for editors), generated from the validator')
    .action(async () => {
      const { schemaCommand } = await import('./commands.js');
      schemaCommand();
    });
  policy
    .command('options')
    .description('list the rsync options the gate knows, with argument kind and risk class')
    .option('--json', 'one JSON array')
    .action(async (opts: { json?: boolean }) => {
      const { optionsCommand } = await import('./commands.js');
      optionsCommand(Boolean(opts.json));
    });
}

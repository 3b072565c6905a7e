// Entry of the bundle. The gate runs on every SSH connection, so it is
// dispatched before anything else is loaded: no commander, no admin commands.
const args = process.argv.slice(2);
if (args[0] === 'gate' && !args.includes('--help') && !args.includes('-h')) {
  // Built apart as dist/gate.mjs (scripts/build.mjs): the gate's own files only.
  const { gateMain } = await import('./gate/entry.js');
  await gateMain(args.slice(1));
} else {
  const { runCli } = await import('./cli.js');
  await runCli(process.argv);
}

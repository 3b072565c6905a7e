// Entry of the bundle. The gate runs on every SSH connection, so it is
// dispatched before anything else is loaded: no commander, no admin commands.
import './no-inspector.js';
const args = process.argv.slice(2);
if (args[0] === 'gate' && !args.includes('--help') && !args.includes('-h')) {
  // Built apart as dist/gate.cjs (scripts/build.mjs): the gate's own files
  // only. The installed launcher loads it directly; this path is for running
  // the bundle by hand (`node dist/gatekeeper.mjs gate ...`) and for the tests.
  const { createRequire } = await import('node:module');
  const { gate } = createRequire(import.meta.url)('./gate.cjs') as { gate: (args: readonly string[]) => Promise<void> };
  await gate(args.slice(1));
} else {
  const { runCli } = await import('./cli.js');
  await runCli(process.argv);
}

// Entry of the bundle. The gate runs on every SSH connection, so it is
// dispatched before anything else is loaded: no commander, no admin commands.
import * as nodeModule from 'node:module';
import { compiledCodeDir, trustedCacheDir } from './gate/cache.js';

const args = process.argv.slice(2);
if (args[0] === 'gate' && !args.includes('--help') && !args.includes('-h')) {
  // Node's compile cache (22.8+): the gate's code is compiled once, not on
  // every connection. Enabled before the gate's modules load, and only in
  // root's own cache directory: V8 runs what it finds there.
  const cache = trustedCacheDir();
  const enable = (nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  try {
    if (cache && enable) enable(compiledCodeDir(cache));
  } catch {
    /* no cache: the gate only compiles its code again */
  }
  const { gateMain } = await import('./gate/main.js');
  await gateMain(args.slice(1));
} else {
  const { runCli } = await import('./cli.js');
  await runCli(process.argv);
}

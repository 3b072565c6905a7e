// The gate's entry: dist/gate.cjs, what sshd's forced command runs through
// the launcher on every connection (scripts/build.mjs, install/launcher.in).
//
// CommonJS, not an ES module: Node starts a CommonJS file without setting up
// its ES module loader, and the gate's start-up path is two files (this one
// and its main chunk), with the YAML parser and schema in a third that only a
// new or edited policy loads.
import { enableCompileCache } from 'node:module';
import { compiledCodeDir, trustedCacheDir } from './cache.js';

/** Run the gate with its arguments (those after `gate`). */
export async function gate(args: readonly string[]): Promise<void> {
  // Node's compile cache (22.1+): the gate's code is compiled once, not on
  // every connection. Enabled before the main chunk loads, and only in
  // root's own cache directory: V8 runs what it finds there.
  const cacheDir = trustedCacheDir();
  try {
    if (cacheDir && typeof enableCompileCache === 'function') enableCompileCache(compiledCodeDir(cacheDir));
  } catch {
    /* no cache: the gate only compiles its code again */
  }
  const { gateMain } = await import('./main.js');
  await gateMain(args, cacheDir);
}

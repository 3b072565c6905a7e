// The gate's own bundle entry (dist/gate.mjs, built apart from the CLI so
// that its start-up path is a handful of files): src/main.ts imports it for
// `gate`.
import * as nodeModule from 'node:module';
import { compiledCodeDir, trustedCacheDir } from './cache.js';

// Node's compile cache (22.8+): the gate's code is compiled once, not on
// every connection. Enabled before the rest of the gate loads, and only in
// root's own cache directory: V8 runs what it finds there.
const cache = trustedCacheDir();
const enable = (nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
try {
  if (cache && enable) enable(compiledCodeDir(cache));
} catch {
  /* no cache: the gate only compiles its code again */
}

export const { gateMain } = await import('./main.js');

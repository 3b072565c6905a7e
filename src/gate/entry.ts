// The gate's entry: dist/gate.cjs, what sshd's forced command runs through
// the launcher on every connection (scripts/build.mjs, install/launcher.in).
//
// CommonJS, not an ES module: Node starts a CommonJS file without setting up
// its ES module loader, and the gate's start-up path is two files (this one
// and its main chunk), with the YAML parser and schema in a third that only a
// new or edited policy loads. The main chunk is loaded with the gate's own
// code cache (code-cache.ts) when root's cache directory is usable.
import '../no-inspector.js';
import { trustedCacheDir } from './cache.js';
import { loadChunk } from './code-cache.js';
import type { GateOptions } from './main.js';

// Set by scripts/build.mjs: the main chunk's file, relative to this one.
declare const __GATE_MAIN_CHUNK__: string | undefined;

type Main = { gateMain: (args: readonly string[], opts: GateOptions) => Promise<void> };

/** Run the gate with its arguments (those after `gate`). */
export async function gate(args: readonly string[]): Promise<void> {
  const cacheDir = trustedCacheDir();
  if (typeof __GATE_MAIN_CHUNK__ === 'string') {
    const main = loadChunk<Main>(`${__dirname}/${__GATE_MAIN_CHUNK__}`, cacheDir);
    await main.exports.gateMain(args, { cacheDir, saveCode: main.save });
  } else {
    // From the sources (tests): no bundle, no code cache.
    const { gateMain } = await import('./main.js');
    await gateMain(args, { cacheDir });
  }
}

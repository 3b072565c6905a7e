// The self-contained executable's main (a Node single executable
// application, built by scripts/package.mjs). Node runs one CommonJS file as
// the main of such an executable, and its require() loads built-ins only, so
// the rest travels inside the executable as assets (node:sea), each compiled
// here as CommonJS:
// - the gate's main chunk, with the gate's own code cache (as gate.cjs does),
//   and the policy chunk it loads for a new or edited policy;
// - the CLI for every other command, one CommonJS file (sea-cli.ts).
// The gate is dispatched first: on every SSH connection this file and the
// gate's main chunk are all that is compiled.
import '../no-inspector.js';
import { getAsset, isSea } from 'node:sea';
import { trustedCacheDir } from '../gate/cache.js';
import { compileChunk, type LoadedChunk } from '../gate/code-cache.js';
import type { GateOptions } from '../gate/main.js';

// Set by scripts/build.mjs: the gate's main chunk, as named among the assets.
declare const __GATE_MAIN_CHUNK__: string;

type Main = { gateMain: (args: readonly string[], opts: GateOptions) => Promise<void> };
type Cli = { runCli: (argv: string[]) => Promise<void> };

const loaded = new Map<string, unknown>();

/** require() for a carried file: Node's built-ins, or another carried file named relative to `dir`. */
function requireFrom(dir: string): (id: string) => unknown {
  return (id) => {
    const builtin = process.getBuiltinModule(id) as unknown;
    if (builtin !== undefined) return builtin;
    if (!id.startsWith('./')) throw new Error(`gatekeeper executable: cannot load ${id}`);
    const name = `${dir}${id.slice(2)}`;
    if (!loaded.has(name)) loaded.set(name, load(name, null).exports);
    return loaded.get(name);
  };
}

/** Compile and run the carried CommonJS file `name`, with the code cache in cacheDir when not null. */
function load<T>(name: string, cacheDir: string | null): LoadedChunk<T> {
  const dir = name.slice(0, name.lastIndexOf('/') + 1);
  return compileChunk<T>(`${process.execPath}/${name}`, Buffer.from(getAsset(name)), requireFrom(dir), cacheDir);
}

function internalError(e: unknown): void {
  process.stderr.write(`gatekeeper: internal error: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 70;
}

if (!isSea()) {
  process.stderr.write('gatekeeper: configuration error: sea/main.cjs runs only inside the gatekeeper executable\n');
  process.exitCode = 78;
} else {
  const args = process.argv.slice(2);
  if (args[0] === 'gate' && !args.includes('--help') && !args.includes('-h')) {
    const cacheDir = trustedCacheDir();
    const main = load<Main>(__GATE_MAIN_CHUNK__, cacheDir);
    main.exports.gateMain(args.slice(1), { cacheDir, saveCode: main.save }).catch(internalError);
  } else {
    load<Cli>('cli.cjs', null).exports.runCli(process.argv).catch(internalError);
  }
}

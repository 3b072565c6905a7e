// The gate's policy loader. Parsing YAML and validating against the schema
// is most of what the gate would spend on every connection (the parser and
// the schema library must first be loaded), while a policy changes rarely.
// So the validated policy is kept in the root-only cache with the exact text
// it came from, and reused only when the file's text is byte-for-byte the
// same and the build (schema, option table, validation code) is the one that
// validated it. A different text, another build, a damaged entry or no
// cache: the full parse and validation, as every other command does. The
// entry is JSON: a validated policy is plain data (a test keeps it so).
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { writeCacheFile } from '../cache-file.js';
import { readPolicyFile, type ReadOptions } from '../policy/locate.js';
import type { LoadedPolicy, Policy } from '../policy/schema.js';
import { pruneCompiledCode } from './cache.js';

// Set by scripts/build.mjs: a hash of the sources and the lock file. Unset
// (tests run from source), the cache is not used.
declare const __GATEKEEPER_BUILD__: string | undefined;
const BUILD = typeof __GATEKEEPER_BUILD__ === 'string' ? __GATEKEEPER_BUILD__ : null;

/** Keep at most this many entries; beyond it, entries of deleted policy files go. */
const PRUNE_ABOVE = 64;

interface Entry {
  build: string;
  file: string;
  source: string;
  policy: Policy;
}

export interface GatePolicyOptions extends ReadOptions {
  /** The root-only cache directory (trustedCacheDir()), or null for no cache. */
  cacheDir: string | null;
  /** The build that validates (default: this bundle's; tests pass their own). */
  build?: string | null;
}

export async function loadGatePolicy(nameOrPath: string, opts: GatePolicyOptions): Promise<LoadedPolicy> {
  const { file, text } = readPolicyFile(nameOrPath, opts);
  const build = opts.build === undefined ? BUILD : opts.build;
  const dir = opts.cacheDir && build ? `${opts.cacheDir}/policies` : null;
  const entryPath = dir ? `${dir}/${encodeURIComponent(file)}.json` : null;
  const cached = entryPath ? readEntry(entryPath, build!, file, text) : null;
  if (cached) return { name: nameOrPath, file, policy: cached };

  const { parsePolicyText, validatePolicy } = await import('../policy/load.js');
  const policy = validatePolicy(await parsePolicyText(text, file), file);
  if (dir && entryPath && entryPath.length - dir.length < 230) {
    writeEntry(dir, entryPath, { build: build!, file, source: text, policy });
    pruneCompiledCode(opts.cacheDir!);
  }
  return { name: nameOrPath, file, policy };
}

function readEntry(path: string, build: string, file: string, text: string): Policy | null {
  try {
    const e = JSON.parse(readFileSync(path, 'utf8')) as Partial<Entry>;
    return e.build === build && e.file === file && e.source === text && e.policy ? e.policy : null;
  } catch {
    return null; // none yet, or unreadable: validate afresh
  }
}

/** Best effort: a cache that cannot be written only costs the next connection the full path. */
function writeEntry(dir: string, path: string, entry: Entry): void {
  if (!writeCacheFile(dir, path, JSON.stringify(entry))) return;
  try {
    prune(dir);
  } catch {
    /* a file gone meanwhile: the next prune */
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= PRUNE_ABOVE) return;
  for (const name of names) {
    const file = name.endsWith('.json') ? decodeURIComponent(name.slice(0, -5)) : null;
    try {
      if (file) statSync(file);
    } catch {
      unlinkSync(`${dir}/${name}`);
    }
  }
}

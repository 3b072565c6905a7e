// The gate's own V8 code cache for its main chunk.
//
// Node's compile cache (module.enableCompileCache) stores what V8 compiled
// when the file was loaded: the top level and little else. V8 compiles most
// functions lazily, on their first call, so with that cache every connection
// still compiled nearly every function the gate runs (~3 ms). Here the chunk
// is compiled through vm.Script, and the cache is taken from the script after
// the gate has run (createCachedData), when it holds every function the gate
// needed. It is written once per chunk and Node version, and again only when
// it does not fit.
//
// V8 checks a code cache against its source by length only: given a cache
// made for other text of the same length, it runs the old code. So each
// cache file carries the exact source it was made from, and is used only
// when that is byte-for-byte the chunk being loaded (as the policy cache
// keeps the exact policy text). V8's own checks (its version, flags) come on
// top.
//
// The cache directory is root's alone (trustedCacheDir): V8 runs what it
// finds there. Without it the chunk is simply required.
import { createRequire, wrap } from 'node:module';
import { readFileSync } from 'node:fs';
import { writeCacheFile } from '../cache-file.js';
import { Script } from 'node:vm';
import { codeCacheDir } from './cache.js';

export interface LoadedChunk<T> {
  exports: T;
  /** Write the code cache if this run has none worth keeping; best effort, once. */
  save(): void;
}

const MAGIC = 'gatekeeper-code-cache 1\n';

/** The cache file for a chunk: its name (which carries a content hash), Node's version and the CPU. */
export function codeCacheFile(cacheDir: string, chunk: string): string {
  return `${codeCacheDir(cacheDir)}/${chunk.slice(chunk.lastIndexOf('/') + 1)}-${process.version}-${process.arch}.bin`;
}

/** A cache file: the magic line, the source's length in bytes and a newline, the source, V8's data. */
export function encodeCodeCache(source: Buffer, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}${source.length}\n`), source, data]);
}

/** V8's data from a cache file, when it was made from exactly `source`; otherwise undefined. */
export function decodeCodeCache(file: Buffer, source: Buffer): Buffer | undefined {
  const head = MAGIC.length;
  if (file.length < head || file.toString('latin1', 0, head) !== MAGIC) return undefined;
  const nl = file.indexOf(10, head);
  if (nl < 0 || file.toString('latin1', head, nl) !== String(source.length)) return undefined;
  const start = nl + 1;
  const end = start + source.length;
  if (end > file.length || !file.subarray(start, end).equals(source)) return undefined;
  return file.subarray(end);
}

/** Load a CommonJS chunk (absolute path) with the code cache in `cacheDir`, or plainly when null. */
export function loadChunk<T>(file: string, cacheDir: string | null): LoadedChunk<T> {
  const req = createRequire(file);
  if (!cacheDir) return { exports: req(file) as T, save: () => {} };
  return compileChunk<T>(file, readFileSync(file), req, cacheDir);
}

/**
 * Compile and run a CommonJS chunk given as its source (the self-contained
 * executable carries its chunks inside itself, src/sea/main.ts), with the
 * code cache in `cacheDir` when there is one. `file` names it: for the cache
 * file's name and stack traces.
 */
export function compileChunk<T>(file: string, source: Buffer, req: (id: string) => unknown, cacheDir: string | null): LoadedChunk<T> {
  const cacheFile = cacheDir === null ? null : codeCacheFile(cacheDir, file);
  let cached: Buffer | undefined;
  try {
    if (cacheFile !== null) cached = decodeCodeCache(readFileSync(cacheFile), source);
  } catch {
    /* none yet */
  }
  const script = new Script(wrap(source.toString('utf8')), { filename: file, cachedData: cached });
  const module = { exports: {} as T };
  const fn = script.runInThisContext() as (e: T, r: (id: string) => unknown, m: { exports: T }, f: string, d: string) => void;
  fn.call(module.exports, module.exports, req, module, file, file.slice(0, file.lastIndexOf('/')));
  let pending = cacheDir !== null && (cached === undefined || script.cachedDataRejected === true);
  return {
    exports: module.exports,
    save() {
      if (!pending || cacheDir === null || cacheFile === null) return;
      pending = false;
      writeCacheFile(codeCacheDir(cacheDir), cacheFile, encodeCodeCache(source, script.createCachedData()));
    },
  };
}

// The gate's code cache: the main chunk runs the same with or without it,
// the cache is written once after the code has run, and a cache V8 rejects
// is replaced rather than trusted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeCacheFile, decodeCodeCache, encodeCodeCache, loadChunk } from '../../src/gate/code-cache.js';
import { tempDir } from '../helpers/policy.js';

let dir: string;
let chunk: string;
let cache: string;

// A CommonJS chunk as esbuild writes one: it uses require, module, exports and __dirname.
const SOURCE = `"use strict";
const { join } = require("node:path");
function lazy(n) { return n * 2; }
module.exports = { double: lazy, where: () => join(__dirname, "x"), file: __filename, self: typeof exports };
`;

beforeEach(() => {
  dir = tempDir();
  chunk = join(dir, 'gate-main-TEST.cjs');
  cache = join(dir, 'cache');
  writeFileSync(chunk, SOURCE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Chunk = { double: (n: number) => number; where: () => string; file: string; self: string };

describe('loadChunk', () => {
  it('without a cache directory, requires the chunk plainly and save() writes nothing', () => {
    const c = loadChunk<Chunk>(chunk, null);
    expect(c.exports.double(21)).toBe(42);
    c.save();
    expect(existsSync(cache)).toBe(false);
  });

  it('gives the chunk the CommonJS wrapper it expects', () => {
    const c = loadChunk<Chunk>(chunk, cache);
    expect(c.exports.where()).toBe(join(dir, 'x'));
    expect(c.exports.file).toBe(chunk);
    expect(c.exports.self).toBe('object');
  });

  it('writes the cache on the first save, 0600, named by chunk, Node version and CPU, once', () => {
    const c = loadChunk<Chunk>(chunk, cache);
    expect(c.exports.double(2)).toBe(4);
    c.save();
    const file = codeCacheFile(cache, chunk);
    expect(file).toBe(join(cache, 'code', `gate-main-TEST.cjs-${process.version}-${process.arch}.bin`));
    expect(readFileSync(file).length).toBeGreaterThan(0);
    expect(statSync(file).mode & 0o777, 'mode').toBe(0o600);
    expect(readdirSync(join(cache, 'code'))).toEqual([`gate-main-TEST.cjs-${process.version}-${process.arch}.bin`]);
    // Once: a second save() of the same load writes nothing, so a file put
    // in its place stays as it is.
    writeFileSync(file, 'sentinel');
    c.save();
    expect(readFileSync(file, 'utf8')).toBe('sentinel');
    expect(readdirSync(join(cache, 'code'))).toEqual([`gate-main-TEST.cjs-${process.version}-${process.arch}.bin`]);
  });

  it('an accepted cache is not written again', () => {
    loadChunk<Chunk>(chunk, cache).save();
    const file = codeCacheFile(cache, chunk);
    writeFileSync(file, Buffer.concat([readFileSync(file)])); // unchanged content
    const marker = readFileSync(file);
    const again = loadChunk<Chunk>(chunk, cache);
    expect(again.exports.double(5)).toBe(10);
    rmSync(file);
    again.save(); // the cache was accepted: nothing to write, so the removed file stays removed
    expect(existsSync(file)).toBe(false);
    expect(marker.length).toBeGreaterThan(0);
  });

  it('a damaged cache file is not used, the chunk still runs, and save() replaces it', () => {
    const file = codeCacheFile(cache, chunk);
    loadChunk<Chunk>(chunk, cache).save();
    writeFileSync(file, Buffer.from('not a code cache at all'));
    const c = loadChunk<Chunk>(chunk, cache);
    expect(c.exports.double(8)).toBe(16);
    c.save();
    expect(decodeCodeCache(readFileSync(file), Buffer.from(SOURCE))).toBeDefined();
  });

  it('a cache made for other source of the same length is not used (V8 itself would run the old code)', () => {
    loadChunk<Chunk>(chunk, cache).save();
    const edited = SOURCE.replace('n * 2', 'n * 3');
    expect(edited.length).toBe(SOURCE.length);
    writeFileSync(chunk, edited);
    const file = codeCacheFile(cache, chunk);
    const stale = readFileSync(file);
    const changed = loadChunk<Chunk>(chunk, cache);
    expect(changed.exports.double(2)).toBe(6);
    changed.save(); // the stale cache is replaced by one for the new text
    expect(readFileSync(file).equals(stale)).toBe(false);
    expect(decodeCodeCache(readFileSync(file), Buffer.from(edited))).toBeDefined();
  });

  it('data V8 cannot use (another V8, other flags) for the right text still runs the chunk from its source', () => {
    const file = codeCacheFile(cache, chunk);
    loadChunk<Chunk>(chunk, cache).save();
    writeFileSync(file, encodeCodeCache(Buffer.from(SOURCE), Buffer.from('garbage from another V8')));
    const c = loadChunk<Chunk>(chunk, cache);
    expect(c.exports.double(1)).toBe(2);
  });
});

describe('the cache file format', () => {
  const src = Buffer.from('module.exports = 1;\n');
  const data = Buffer.from([1, 2, 3, 4]);

  it('round-trips V8 data for the same source', () => {
    expect(decodeCodeCache(encodeCodeCache(src, data), src)).toEqual(data);
  });

  it.each([
    ['another source of the same length', Buffer.from('module.exports = 2;\n')],
    ['a longer source', Buffer.from('module.exports = 10;\n')],
    ['a shorter source', Buffer.from('module.exports=1;\n')],
  ])('gives nothing for %s', (_, other) => {
    expect(decodeCodeCache(encodeCodeCache(src, data), other)).toBeUndefined();
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['another magic', Buffer.from('something else 1\n21\nmodule.exports = 1;\n\u0001')],
    ['a truncated source', encodeCodeCache(src, data).subarray(0, 30)],
  ])('gives nothing for %s', (_, file) => {
    expect(decodeCodeCache(file, src)).toBeUndefined();
  });
});

// The log reader's synchronous reads (read/items.ts): every byte, in order, and
// the event loop still turns while a big file is read (signals, timers, EPIPE).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileChunks } from '../../src/audit/read/items.js';

const dir = mkdtempSync(join(tmpdir(), 'gk-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 3 MiB and a bit: many whole chunks and a short last one.
const big = Buffer.alloc(3 * (1 << 20) + 12345);
for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
const file = join(dir, 'big.log');
writeFileSync(file, big);

describe('fileChunks', () => {
  it('gives every byte of the file, in order', async () => {
    const parts: Buffer[] = [];
    for await (const chunk of fileChunks(file)) parts.push(chunk);
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    expect(parts.length).toBeGreaterThan(16);
  });

  it('lets the event loop turn while it reads', async () => {
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    let chunksAfterTurn = 0;
    for await (const _chunk of fileChunks(file)) if (turned) chunksAfterTurn++;
    // Without the reader's own pause, a callback queued before the read runs only after the last chunk.
    expect(chunksAfterTurn).toBeGreaterThan(0);
  });

  it('an empty file gives nothing; a missing one throws when read', async () => {
    writeFileSync(join(dir, 'empty.log'), '');
    const got: Buffer[] = [];
    for await (const chunk of fileChunks(join(dir, 'empty.log'))) got.push(chunk);
    expect(got).toEqual([]);
    await expect(async () => {
      for await (const _ of fileChunks(join(dir, 'missing.log'))) void _;
    }).rejects.toThrow(/ENOENT/);
  });
});

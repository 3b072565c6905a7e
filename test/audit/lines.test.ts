import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { LineSplitter, linesOf } from '../../src/audit/read/lines.js';
import { MAX_LINE } from '../../src/audit/read/parse.js';

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function collect(source: AsyncIterable<Buffer>): Promise<{ lines: string[]; tooLong: number }> {
  const out: string[] = [];
  let tooLong = 0;
  for await (const b of linesOf(source)) {
    out.push(...b.lines);
    tooLong += b.tooLong;
  }
  return { lines: out, tooLong };
}

/** Cut a buffer at the given offsets (sorted, deduplicated, inside the buffer). */
function cut(buf: Buffer, offsets: number[]): Buffer[] {
  const at = [...new Set(offsets.map((o) => o % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const o of at) {
    parts.push(buf.subarray(prev, o));
    prev = o;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

describe('linesOf', () => {
  it('gives the same lines however the bytes are chunked (multi-byte characters split too)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'ü', '✓', '😀', ' ', '"', '\r') }), { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (texts, trailingNewline, offsets) => {
          const text = texts.join('\n') + (trailingNewline && texts.length ? '\n' : '');
          const expected = text === '' ? [] : text.split('\n');
          if (text.endsWith('\n')) expected.pop();
          const { lines } = await collect(chunks(...cut(Buffer.from(text), offsets)));
          expect(lines).toEqual(expected);
        },
      ),
    );
  });

  it('reads gzip by its magic bytes, also when cut into pieces', async () => {
    const gz = gzipSync(Buffer.from('one\ntwo\nthree\n'));
    expect((await collect(chunks(...cut(gz, [1, 5, 17])))).lines).toEqual(['one', 'two', 'three']);
  });

  it('reads concatenated gzip members (logrotate delaycompress + cat)', async () => {
    const gz = Buffer.concat([gzipSync(Buffer.from('a\n')), gzipSync(Buffer.from('b\n'))]);
    expect((await collect(chunks(gz))).lines).toEqual(['a', 'b']);
  });

  it('fails a truncated gzip stream with a zlib error (the reader counts it; lines before it are kept)', async () => {
    const gz = gzipSync(Buffer.from('x'.repeat(100_000) + '\nlast\n'));
    await expect(collect(chunks(gz.subarray(0, gz.length - 20)))).rejects.toMatchObject({ code: expect.stringMatching(/^Z_/) });
  });

  it('drops an endless line without holding it in memory, and goes on after its newline', async () => {
    const big = Buffer.alloc(MAX_LINE + 10, 'x');
    const { lines, tooLong } = await collect(chunks(Buffer.from('first\n'), big, big, Buffer.from('x\nafter\n')));
    expect(lines).toEqual(['first', 'after']);
    expect(tooLong).toBe(1);
  });
});

describe('LineSplitter', () => {
  it('keeps an unterminated line until the end, then gives it (a truncated last record)', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('a\nb')).lines).toEqual(['a']);
    expect(s.push(Buffer.from('c')).lines).toEqual([]);
    expect(s.end().lines).toEqual(['bc']);
  });
});

// Lines out of a byte stream, in batches, with bounded memory.
//
// readline emits one event per line; splitting big chunks ourselves and
// handing batches onwards is several times faster on multi-million-line logs.
// gzip is recognised by its magic bytes, not the file name, so rotated
// `.gz` files and `zcat`-less pipes (`audit --log - < old.log.gz`) both work.
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { Readable, pipeline } from 'node:stream';
import { MAX_LINE } from './parse.js';

export interface LineBatch {
  lines: string[];
  /** Lines dropped because they exceeded MAX_LINE. */
  tooLong: number;
}

/** Bytes → bytes, gunzipped when the stream starts with the gzip magic (1f 8b). */
export async function* decompressed(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  // The magic needs two bytes; a pipe may deliver one at first.
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => it };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    // pipeline, not pipe: a read error must end the gunzip stream with that error.
    pipeline(Readable.from(prepend(head, rest)), gunzip, () => {});
    yield* gunzip as AsyncIterable<Buffer>;
    return;
  }
  yield head;
  yield* rest;
}

async function* prepend(head: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield head;
  yield* rest;
}

/**
 * Splits text into lines. `final` says whether an unterminated last line
 * counts (a finished file: yes, it is a truncated record to report; a file
 * being followed: no, the writer is mid-line).
 */
export class LineSplitter {
  private carry = '';
  private skipping = false;
  private readonly decoder = new StringDecoder('utf8');

  push(chunk: Buffer): LineBatch {
    return this.split(this.decoder.write(chunk));
  }

  /** The unterminated rest, if any (call once at the end of a finished input). */
  end(): LineBatch {
    const batch = this.split(this.decoder.end());
    if (this.carry.length > 0 && !this.skipping) batch.lines.push(this.carry);
    this.carry = '';
    this.skipping = false;
    return batch;
  }

  private split(text: string): LineBatch {
    const lines: string[] = [];
    let tooLong = 0;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      if (this.skipping) {
        this.skipping = false;
      } else if (this.carry.length > 0) {
        const line = this.carry + text.slice(start, nl);
        if (line.length > MAX_LINE) tooLong++;
        else lines.push(line);
        this.carry = '';
      } else {
        lines.push(text.slice(start, nl));
      }
      start = nl + 1;
    }
    if (start < text.length && !this.skipping) {
      this.carry += text.slice(start);
      // A "line" that never ends must not grow without bound: drop it and
      // ignore everything up to the next newline.
      if (this.carry.length > MAX_LINE) {
        this.carry = '';
        this.skipping = true;
        tooLong++;
      }
    }
    return { lines, tooLong };
  }
}

/** Every line of a finished byte stream, in batches. */
export async function* linesOf(source: AsyncIterable<Buffer>): AsyncGenerator<LineBatch> {
  const splitter = new LineSplitter();
  for await (const chunk of decompressed(source)) {
    const batch = splitter.push(chunk);
    if (batch.lines.length > 0 || batch.tooLong > 0) yield batch;
  }
  const last = splitter.end();
  if (last.lines.length > 0 || last.tooLong > 0) yield last;
}

// `audit --follow`: keep reading a live file as it grows, across rotation.
//
// logrotate either renames the file and the gate's next O_APPEND open creates
// a new one (create), or copies and truncates it in place (copytruncate).
// Polling the path's inode and size notices both: a new inode means read the
// old file to its end, then start the new one from its first byte; a smaller
// size means start again from 0. Polling (not fs.watch) because inotify
// misses renames on some file systems and is absent on others.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { LineSplitter } from './lines.js';

export interface FollowOptions {
  /** Start at the current end (only new lines), or at the beginning. */
  fromEnd: boolean;
  pollMs: number;
  signal: AbortSignal;
}

const CHUNK = 1 << 20;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

async function identity(path: string): Promise<{ ino: number; dev: number; size: number } | null> {
  try {
    const s = await stat(path);
    return { ino: s.ino, dev: s.dev, size: s.size };
  } catch {
    return null;
  }
}

/** How long a rotated-away file is still read: a gate that opened it just before the rename may still write to it. */
const DRAIN_MS = 2_000;
/** Bytes remembered before the read position, to notice a truncate-and-rewrite that left the file larger than before. */
const SIGNATURE = 64;

interface Open {
  fh: FileHandle;
  ino: number;
  dev: number;
  pos: number;
  splitter: LineSplitter;
  /** The SIGNATURE bytes before pos, as read. */
  tail: Buffer;
}

/**
 * Lines appended to `path` from now on (or from its start), in batches; an
 * empty batch after each quiet poll, so the caller can act on idle time (the
 * first empty batch also means: the file has been looked at). Ends when the
 * signal aborts.
 */
export async function* followLines(path: string, opts: FollowOptions): AsyncGenerator<string[]> {
  let cur: Open | null = null;
  const draining: { file: Open; until: number }[] = [];
  const buf = Buffer.alloc(CHUNK);
  let first = true;

  async function* readToEnd(f: Open): AsyncGenerator<string[]> {
    for (;;) {
      const { bytesRead } = await f.fh.read(buf, 0, CHUNK, f.pos);
      if (bytesRead === 0) return;
      // Checked after the read: if the bytes before pos still are what we read
      // there, what we just read continues them; if not, the file was truncated
      // and rewritten (copytruncate) before our read, so start over at 0.
      if (!(await unchanged(f))) {
        restart(f);
        continue;
      }
      f.pos += bytesRead;
      const got = buf.subarray(0, bytesRead);
      f.tail = Buffer.concat([f.tail, got]).subarray(-SIGNATURE);
      const batch = f.splitter.push(got);
      if (batch.lines.length) yield batch.lines;
    }
  }

  function restart(f: Open): void {
    f.pos = 0;
    f.tail = Buffer.alloc(0);
    f.splitter = new LineSplitter();
  }

  /** Whether the bytes before pos are still what was read there (false: rewritten in place). */
  async function unchanged(f: Open): Promise<boolean> {
    if (f.tail.length === 0) return true;
    const check = Buffer.alloc(f.tail.length);
    const { bytesRead } = await f.fh.read(check, 0, check.length, f.pos - f.tail.length);
    return bytesRead === check.length && check.equals(f.tail);
  }

  try {
    while (!opts.signal.aborted) {
      if (!cur) {
        try {
          const fh = await open(path, 'r');
          const s = await fh.stat();
          const pos = first && opts.fromEnd ? s.size : 0;
          cur = { fh, ino: s.ino, dev: s.dev, pos, splitter: new LineSplitter(), tail: Buffer.alloc(0) };
          if (pos > 0) {
            const tail = Buffer.alloc(Math.min(SIGNATURE, pos));
            await fh.read(tail, 0, tail.length, pos - tail.length);
            cur.tail = tail;
          }
        } catch {
          cur = null; // not there (yet): look again next time
        }
        first = false;
      }
      for (let i = draining.length - 1; i >= 0; i--) {
        const d = draining[i]!;
        yield* readToEnd(d.file);
        if (Date.now() > d.until || opts.signal.aborted) {
          const rest = d.file.splitter.end();
          if (rest.lines.length) yield rest.lines;
          await d.file.fh.close();
          draining.splice(i, 1);
        }
      }
      if (cur) {
        const now = await identity(path);
        // Truncated in place (copytruncate) and not yet as long as before: start over at 0.
        if (now && now.ino === cur.ino && now.dev === cur.dev && now.size < cur.pos) restart(cur);
        yield* readToEnd(cur);
        if (!now || now.ino !== cur.ino || now.dev !== cur.dev) {
          // Rotated away: keep reading the old file a little (late writers), start the new one.
          draining.push({ file: cur, until: Date.now() + DRAIN_MS });
          cur = null;
          if (now) continue; // the new file is already there: read it without waiting
        }
      }
      yield [];
      await sleep(opts.pollMs, opts.signal);
    }
  } finally {
    for (const d of draining) await d.file.fh.close();
    await cur?.fh.close();
  }
}

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

/**
 * Lines appended to `path` from now on (or from its start), in batches; an
 * empty batch after each quiet poll, so the caller can act on idle time.
 * Ends when the signal aborts.
 */
export async function* followLines(path: string, opts: FollowOptions): AsyncGenerator<string[]> {
  let fh: FileHandle | null = null;
  let id: { ino: number; dev: number } | null = null;
  let pos = 0;
  let splitter = new LineSplitter();
  const buf = Buffer.alloc(CHUNK);
  let first = true;

  const readToEnd = async function* (): AsyncGenerator<string[]> {
    for (;;) {
      const { bytesRead } = await fh!.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      const batch = splitter.push(buf.subarray(0, bytesRead));
      if (batch.lines.length) yield batch.lines;
    }
  };

  try {
    while (!opts.signal.aborted) {
      if (!fh) {
        const now = await identity(path);
        if (now) {
          try {
            fh = await open(path, 'r');
            const s = await fh.stat();
            id = { ino: s.ino, dev: s.dev };
            pos = first && opts.fromEnd ? s.size : 0;
            splitter = new LineSplitter();
          } catch {
            fh = null;
          }
        }
        first = false;
      }
      if (fh) {
        yield* readToEnd();
        const now = await identity(path);
        if (!now || now.ino !== id!.ino || now.dev !== id!.dev) {
          // Rotated away: what the old file still got before the rename belongs to us too.
          yield* readToEnd();
          const rest = splitter.end();
          if (rest.lines.length) yield rest.lines;
          await fh.close();
          fh = null;
          if (now) continue; // the new file is already there: read it without waiting
        } else if (now.size < pos) {
          // Truncated in place (copytruncate): the new content starts at 0.
          pos = 0;
          splitter = new LineSplitter();
          continue;
        }
      }
      yield [];
      await sleep(opts.pollMs, opts.signal);
    }
  } finally {
    await fh?.close();
  }
}

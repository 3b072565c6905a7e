// The log writer: pino, on a destination of our own that writes each record
// synchronously with a single write() on the gate's O_APPEND|O_NOFOLLOW
// descriptor (or hands it to syslog), so records from concurrent sessions
// never interleave and each is on disk before rsync is exec'd.
//
// pino's own destinations are not used: pino.destination (SonicBoom) may
// buffer and write later, and a transport runs in a worker thread; execve
// would replace the process with the record still in memory. The object
// below is a complete pino destination (pino calls write(line) and nothing
// else), and nothing asynchronous is ever started: when write() returns the
// record is in the kernel's hands. The gate's bundle leaves SonicBoom,
// transports and worker threads out altogether (scripts/build.mjs).
//
// The line (record.ts, version 2): pino's level, time, pid, hostname, then
// the record's fields, then msg, the reason.
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import pino from 'pino';
import type { GateEntry } from './record.js';
import { LEVELS } from './version.js';

export interface LogSink {
  /** Write one record; throws when it cannot be written completely. */
  write(entry: GateEntry): void;
  close(): void;
}

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Open a log file for appending (0640, never through a symlink). */
export function openFileLog(path: string, opts: { createDir?: boolean } = {}): LogSink {
  if (opts.createDir) mkdirSync(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true, mode: 0o750 });
  const fd = openSync(path, FLAGS, 0o640);
  return sinkFor(
    (line) => {
      const buf = Buffer.from(line, 'utf8');
      const n = writeSync(fd, buf, 0, buf.length);
      if (n !== buf.length) throw new Error(`short write to ${path} (${n} of ${buf.length} bytes)`);
    },
    () => closeSync(fd),
  );
}

const LABELS = { 30: 'info', 40: 'warn', 50: 'error' } as const;

/** A sink that hands each record's line, as pino wrote it, to a function (the file above, syslog, tests). */
export function sinkFor(writeLine: (line: string) => void, close: () => void = () => {}): LogSink {
  // pino's defaults give what the record wants: numeric level, epoch-ms time,
  // pid and hostname (os.hostname(), read once when pino loads), msg.
  const logger = pino({ level: 'info' }, { write: writeLine });
  return {
    write({ reason, ...fields }) {
      // The reason is the message, never a format string: with no further
      // arguments pino writes it verbatim (a client's "%s" stays "%s").
      logger[LABELS[LEVELS[fields.event]]](fields, reason);
    },
    close,
  };
}

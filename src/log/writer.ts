// The log writer: one JSON line per record through pino, written
// synchronously with a single write() on an O_APPEND descriptor, so records
// from concurrent sessions never interleave and each is on disk before exec.
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import pino from 'pino';
import type { LogRecord } from './record.js';

export interface LogSink {
  /** Write one record; throws when it cannot be written completely. */
  write(record: LogRecord): void;
  close(): void;
}

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Open a log file for appending (0640, never through a symlink). */
export function openFileLog(path: string, opts: { createDir?: boolean } = {}): LogSink {
  if (opts.createDir) mkdirSync(path.slice(0, path.lastIndexOf('/')) || '/', { recursive: true, mode: 0o750 });
  const fd = openSync(path, FLAGS, 0o640);
  return sinkFor((line) => {
    const buf = Buffer.from(line, 'utf8');
    const n = writeSync(fd, buf, 0, buf.length);
    if (n !== buf.length) throw new Error(`short write to ${path} (${n} of ${buf.length} bytes)`);
  }, () => closeSync(fd));
}

/** A sink that hands each line to a function (syslog, tests). */
export function sinkFor(writeLine: (line: string) => void, close: () => void = () => {}): LogSink {
  const logger = pino(
    { base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } },
    { write: writeLine },
  );
  return {
    write(record) {
      // The level lets journald/rsyslog filter: refusals are warnings, failures errors.
      if (record.event === 'error') logger.error(record);
      else if (record.event === 'deny') logger.warn(record);
      else logger.info(record);
    },
    close,
  };
}

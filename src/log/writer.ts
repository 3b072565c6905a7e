// The log writer: one JSON line per record, written synchronously with a
// single write() on an O_APPEND descriptor, so records from concurrent
// sessions never interleave and each is on disk before exec.
//
// The line is what pino wrote here before (a "level" label, then the record),
// but pino itself is not used: on every connection it cost about 4 ms of
// the gate's start-up (loading, building a logger, formatting one line), more
// than half of what the gate may add to a bare `node` start (issue #5,
// docs/performance.md). One fixed-shape record needs none of its machinery.
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
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

/** The level lets journald/rsyslog filter: refusals are warnings, failures errors. */
export function levelOf(event: LogRecord['event']): 'error' | 'warn' | 'info' {
  return event === 'error' ? 'error' : event === 'deny' ? 'warn' : 'info';
}

/** One record as its log line: JSON, "level" first, newline-terminated. */
export function formatRecord(record: LogRecord): string {
  return `${JSON.stringify({ level: levelOf(record.event), ...record })}\n`;
}

/** A sink that hands each line to a function (syslog, tests). */
export function sinkFor(writeLine: (line: string) => void, close: () => void = () => {}): LogSink {
  return { write: (record) => writeLine(formatRecord(record)), close };
}

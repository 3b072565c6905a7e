// Send one record to the local syslog socket (/dev/log) with the identifier
// "gatekeeper", so journald or rsyslog carry it wherever the fleet collects
// logs, and `journalctl -t gatekeeper -o json | gatekeeper audit --log -`
// reads it back. Node has no unix datagram sockets, so util-linux logger(1)
// does the sending: run directly (absolute path, no shell, the record on
// stdin so no byte of it is ever an option) and waited for, so the record is
// handed over before rsync is exec'd. Any failure throws: the gate refuses a
// session it cannot log.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export const LOGGER = '/usr/bin/logger';
export const SYSLOG_SOCKET = '/dev/log';
/** logger truncates at 1 KiB by default, which would cut long commands out of the JSON. */
const MAX_MESSAGE = 65536;

export interface SyslogOptions {
  /** The socket to send to (tests use their own). */
  socket?: string;
  /** The pid the message carries; the gate's own (with execve also rsync's). */
  pid?: number;
  /** facility.level; auth because these are access decisions. */
  priority?: string;
}

/** The logger(1) arguments for one record. */
export function loggerArgs(opts: SyslogOptions = {}): string[] {
  return [
    '--id=' + String(opts.pid ?? process.pid),
    '-t',
    'gatekeeper',
    '-p',
    opts.priority ?? 'auth.info',
    '--size',
    String(MAX_MESSAGE),
    // Without this logger ignores a missing or refusing socket and exits 0.
    '--socket-errors=on',
    '-u',
    opts.socket ?? SYSLOG_SOCKET,
  ];
}

export function sendToSyslog(line: string, opts: SyslogOptions = {}): void {
  const message = line.replace(/\n$/, '');
  // logger sends each input line as its own message: a record is one line or it is broken.
  if (message.includes('\n')) throw new Error('a syslog record must be a single line');
  if (Buffer.byteLength(message) > MAX_MESSAGE) throw new Error(`record longer than ${MAX_MESSAGE} bytes; syslog would truncate it`);
  const r = spawnSync(LOGGER, loggerArgs(opts), {
    input: message + '\n',
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {},
    timeout: 5000,
  });
  const failure = loggerFailure(r);
  if (failure) throw new Error(failure);
}

/**
 * Why a logger run did not hand the record over, or null when it did. A
 * logger that gives up at once (a missing socket) may exit before it reads
 * its input, and then writing the record fails with EPIPE: that logger did
 * run, and its status and stderr say why; only a logger that never started
 * (no status, no signal) "cannot run".
 */
export function loggerFailure(r: Pick<SpawnSyncReturns<Buffer>, 'error' | 'status' | 'signal' | 'stderr'>): string | null {
  const exited = r.status !== null || r.signal !== null;
  if (!exited) return `cannot run ${LOGGER}: ${r.error?.message ?? 'it did not start'}`;
  const how = r.signal ? `signal ${r.signal}` : `status ${r.status}`;
  if (r.status !== 0) return `${LOGGER} failed (${how}): ${String(r.stderr ?? '').trim()}`;
  // Exited 0, but the record did not all reach it: not logged.
  if (r.error) return `${LOGGER} exited before reading the whole record (${r.error.message})`;
  return null;
}

// Send one record to the local syslog socket (/dev/log) with the identifier
// "gatekeeper", so journald or rsyslog carry it wherever the fleet collects
// logs. Node has no unix datagram sockets, so util-linux logger(1) does the
// sending; it is run directly (absolute path, no shell) and waited for, so
// the record is handed over before rsync is exec'd.
import { spawnSync } from 'node:child_process';

const LOGGER = '/usr/bin/logger';

export function sendToSyslog(line: string): void {
  const r = spawnSync(LOGGER, ['--id=' + process.pid, '-t', 'gatekeeper', '-p', 'auth.info', '--socket-errors=on', '-u', '/dev/log'], {
    input: line,
    stdio: ['pipe', 'ignore', 'pipe'],
    timeout: 5000,
  });
  if (r.error) throw new Error(`cannot run ${LOGGER}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${LOGGER} failed (status ${r.status}): ${String(r.stderr).trim()}`);
}

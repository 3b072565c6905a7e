// Global setup: the suite must leave the host as it found it. The places
// gatekeeper's commands write by default (install, enroll, the metrics
// schedule, the gate's log) are fingerprinted before the first test file and
// again after the last; any difference fails the run, naming the path. A test
// that forgets to point a command into its scratch directory is caught here.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** The system paths install, uninstall, enroll and the gate touch when not told otherwise. */
export const WATCHED = [
  '/etc/ssh',
  '/etc/gatekeeper',
  '/etc/logrotate.d',
  '/etc/systemd/system',
  '/etc/cron.d',
  '/etc/rsyslog.d',
  '/usr/local/bin/gatekeeper',
  '/usr/local/lib/gatekeeper',
  '/var/log/gatekeeper',
  '/var/lib/gatekeeper',
  '/root/.ssh',
];

function walk(path: string, out: Map<string, string>): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // absent before and after is equal; absent on one side shows as a difference
  }
  const head = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
  if (st.isSymbolicLink()) out.set(path, `${head} -> ${readlinkSync(path)}`);
  else if (st.isFile()) out.set(path, `${head} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
  else if (st.isDirectory()) {
    out.set(path, `${head} dir`);
    for (const name of readdirSync(path).sort()) walk(join(path, name), out);
  } else out.set(path, `${head} special`);
}

export function fingerprint(paths: readonly string[] = WATCHED): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of paths) walk(p, out);
  return out;
}

export function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const diff: string[] = [];
  for (const [p, v] of before) if (after.get(p) !== v) diff.push(after.has(p) ? `changed: ${p}` : `removed: ${p}`);
  for (const p of after.keys()) if (!before.has(p)) diff.push(`added: ${p}`);
  return diff;
}

export default function setup(): () => void {
  const before = fingerprint();
  return () => {
    const diff = differences(before, fingerprint());
    if (diff.length === 0) return;
    // vitest reports an error thrown here but still exits 0: set the code as well.
    process.exitCode = 1;
    throw new Error(`the tests changed files outside their scratch directories:\n  ${diff.join('\n  ')}`);
  };
}

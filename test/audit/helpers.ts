// Helpers for the audit tests: records built through the real schema, the
// built CLI run as a process, and the real gate run the way sshd runs it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { RecordLineV1Schema, type LogRecord } from '../../src/log/record.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'gatekeeper.mjs');
/** Node 24 from devDependencies when run by npm. */
export const NODE = process.execPath;
/** Node 20 from npm (runtimes/, scripts/runtimes.sh): no process.execve, so the gate takes its spawn fallback. */
export const NODE20 = join(ROOT, 'runtimes', 'node_modules', 'node20-linux-x64', 'bin', 'node');

let counter = 0;

/**
 * A record as the gate wrote it in version 1 (ISO time, reason), which audit
 * reads as it reads today's pino lines (test/log/pino.test.ts and the real
 * gate's records cover version 2); anything not given gets a plausible value.
 */
export function rec(fields: Partial<LogRecord> & { time: string }): LogRecord {
  counter++;
  return RecordLineV1Schema.parse({
    v: 1,
    event: 'allow',
    policy: 'backup',
    session: `s${String(counter).padStart(6, '0')}`,
    pid: 10_000 + counter,
    user: 'root',
    client: { addr: '198.51.100.7', port: 50_000 },
    server: { addr: '192.0.2.1', port: 22 },
    command: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /',
    argv: null,
    reason: 'allowed: pull (the server sends)',
    ...fields,
  });
}

/** A version 2 line, as pino writes it for the gate today (level, epoch-ms time, pid, hostname, …, msg). */
export function lineV2(fields: Partial<LogRecord> & { time: string; hostname: string }): string {
  const { time, reason, hostname, pid, ...rest } = rec(fields);
  const level = { allow: 30, exit: 30, describe: 30, answer: 30, grant: 30, deny: 40, error: 50 }[rest.event];
  return JSON.stringify({ level, time: Date.parse(time), pid, hostname: hostname!, ...rest, v: 2, msg: reason });
}

export const line = (fields: Partial<LogRecord> & { time: string }) => JSON.stringify(rec(fields));
export const lines = (...records: (Partial<LogRecord> & { time: string })[]) => records.map((r) => line(r) + '\n').join('');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * spawnSync's error, when the process never ran. A process that exits before
 * reading all of `input` makes spawnSync report EPIPE beside its exit status,
 * depending on which came first: a race, not a failure of the run (its status
 * says how it went).
 */
function throwUnlessRan(r: SpawnSyncReturns<string>): void {
  if (r.error && r.status === null && r.signal === null) throw r.error;
}

/** `gatekeeper audit ARGS` as a process (the built bundle). */
export function audit(args: readonly string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; policyDir?: string } = {}): Run {
  const policyDir = opts.policyDir ?? '/nonexistent-policy-dir';
  const r: SpawnSyncReturns<string> = spawnSync(NODE, [CLI, 'audit', '--policy-dir', policyDir, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { PATH: process.env.PATH, TZ: 'UTC', ...opts.env },
    maxBuffer: 1 << 28,
  });
  throwUnlessRan(r);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** JSON lines of stdout, parsed. */
export const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

export interface GateRun extends Run {
  pid: number | undefined;
}

/** The real gate, as sshd runs a forced command. */
export function runGate(
  policyDir: string,
  policy: string,
  command: string | null,
  opts: { client?: string; node?: string; input?: string } = {},
): GateRun {
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/bin:/bin',
    USER: 'root',
    SSH_CONNECTION: `${opts.client ?? '198.51.100.7'} 50000 192.0.2.1 22`,
  };
  if (command !== null) env.SSH_ORIGINAL_COMMAND = command;
  const r = spawnSync(opts.node ?? NODE, [CLI, 'gate', '--policy', policy, '--policy-dir', policyDir], {
    env,
    input: opts.input ?? '',
    encoding: 'utf8',
  });
  throwUnlessRan(r);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

/** `gatekeeper check` exit status for a command (0 allowed, 77 refused). */
export function check(policyFile: string, command: string, client = '198.51.100.7'): Run {
  const r = spawnSync(NODE, [CLI, 'check', '--policy', policyFile, '--client', client, '--', command], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  throwUnlessRan(r);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

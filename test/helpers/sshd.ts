// The end-to-end harness as the tests use it: the private sshd core lives in
// scripts/lib/sshd.mjs (shared with `npm run demo`); this adds policies, the
// gate's log, and a vitest-friendly lifecycle.
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PolicyInput } from '../../src/policy/schema.js';
import {
  startSshd,
  gateCommand,
  authorizedKeysLine,
  makePrivateDir,
  run,
  start,
  missingPrerequisites,
  GATEKEEPER,
  REPO,
  RSYNC,
  SSH,
  INSTALL_HINT,
  type Sshd,
  type RunResult,
} from '../../scripts/lib/sshd.mjs';

export { startSshd, gateCommand, authorizedKeysLine, makePrivateDir, run, start, missingPrerequisites, GATEKEEPER, REPO, RSYNC, SSH, INSTALL_HINT };
export type { Sshd, RunResult };

/** Node 20 from the system: no process.execve, so the gate takes its spawn fallback. */
export const SYSTEM_NODE = '/usr/bin/node';

/** Write a policy file (YAML), root-owned 0600, and return its absolute path. */
export function writePolicy(dir: string, name: string, policy: PolicyInput): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(policy), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** A log record as the gate writes it (loosely typed: the test asserts on the fields it needs). */
export interface GateRecord {
  event: 'allow' | 'deny' | 'error' | 'exit';
  reason: string;
  code?: string;
  command: string | null;
  argv: string[] | null;
  pid: number;
  session: string;
  status?: number | null;
  exec?: 'execve' | 'spawn';
  client: { addr: string; port: number } | null;
  [k: string]: unknown;
}

/** Every record in the gate's log (one JSON object per line); [] when there is no log yet. */
export function readLog(file: string): GateRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GateRecord);
}

/** Install the gate as the only key's forced command, for this policy. */
export function useGate(sshd: Sshd, policy: string, node: string = process.execPath): string {
  const command = gateCommand({ policy, node });
  sshd.setAuthorizedKeys([authorizedKeysLine(command, sshd.clientPublicKey)]);
  return command;
}

/** Fail loudly, with the sshd log, when the gate's bundle is missing. */
export function requireBuild(): void {
  if (!existsSync(GATEKEEPER)) throw new Error(`${GATEKEEPER} is missing: run \`npm run build\` first`);
}

/** A compact description of a run for assertion messages. */
export function describeRun(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' TIMED OUT' : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/**
 * The files rsync -v names in its file list (ignoring progress lines and the
 * summary), e.g. ["./", "changed.txt", "deleting gone.txt"].
 */
export function listedFiles(stdout: string): string[] {
  const lines = stdout.split('\n').map((l) => l.split('\r')[0]!.trimEnd());
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' || /^(receiving|sending|building) .*file list/.test(line)) continue;
    if (/^sent [\d,.]+ bytes/.test(line) || /^total size is /.test(line)) break;
    if (/^\s/.test(line) || /^\d+ files? to consider$/.test(line)) continue;
    out.push(line);
  }
  return out;
}

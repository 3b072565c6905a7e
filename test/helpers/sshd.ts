// The end-to-end harness as the tests use it: the private sshd core lives in
// scripts/lib/sshd.mjs (shared with `npm run demo`); this adds policies, the
// gate's log, and a vitest-friendly lifecycle.
import { parseRecordLine } from '../../src/log/record.js';
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync, cpSync, rmSync } from 'node:fs';
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

/** Node 20 from npm (runtimes/, scripts/runtimes.sh): no process.execve, so the gate takes its spawn fallback. */
export const NODE20 = join(REPO, 'runtimes', 'node_modules', 'node20-linux-x64', 'bin', 'node');
/** The machine's node (what npm runs on): a node that exists on the target, for install --node. */
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
  event: 'allow' | 'deny' | 'error' | 'exit' | 'grant';
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

/** Every record in the gate's log (one JSON object per line, read as audit reads it); [] when there is no log yet. */
export function readLog(file: string): GateRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const r = parseRecordLine(l);
      if (!r) throw new Error(`not a log record: ${l}`);
      return r as GateRecord;
    });
}

/** Install the gate as the only key's forced command, for this policy. */
export function useGate(sshd: Sshd, policy: string, node: string = process.execPath, gatekeeper: string = GATEKEEPER): string {
  const command = gateCommand({ policy, node, gatekeeper });
  sshd.setAuthorizedKeys([authorizedKeysLine(command, sshd.clientPublicKey)]);
  return command;
}

/**
 * Copy the built bundle (dist/) into `dir` and return its entry. The copy is
 * what an installation deploys (a self-contained bundle in a root-owned
 * directory), and it keeps a test file's gate fixed while a developer
 * rebuilds dist/ in the same working tree.
 */
export async function deployBundle(dir: string): Promise<string> {
  const dist = join(REPO, 'dist');
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      cpSync(dist, dir, { recursive: true });
      const entry = join(dir, 'gatekeeper.mjs');
      // A bundle caught half-written by a concurrent build fails to load: check it.
      const probe = await run(process.execPath, [entry, '--version']);
      if (probe.code === 0) return entry;
      throw new Error(`${entry} --version: ${describeRun(probe)}`);
    } catch (e) {
      if (attempt >= 20) throw new Error(`cannot deploy ${dist} (run \`npm run build\` first): ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
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

/** What a scenario file needs: a private sshd, a private directory, the gate's log and state paths. */
export interface GateSetup {
  sshd: Sshd;
  /** Root-owned 0700 scratch directory (sshd's own). */
  dir: string;
  /** The gate's log (policies written with `policy()` point here). */
  log: string;
  /** maxConnections slots. */
  stateDir: string;
  /** The deployed copy of the bundle the forced command runs. */
  gatekeeper: string;
  /** Write a policy (log and stateDir filled in) and make it the key's forced command. */
  usePolicy(name: string, input: PolicyInput, node?: string): string;
  /** Records of the gate's log written since the last call. */
  newRecords(): GateRecord[];
  /** Stop sshd and remove everything. */
  stop(): Promise<void>;
}

export async function setupGate(prefix: string, extraConfig: string[] = []): Promise<GateSetup> {
  const sshd = await startSshd({ prefix, extraConfig });
  const gatekeeper = await deployBundle(join(sshd.dir, 'gatekeeper')).catch(async (e: unknown) => {
    await sshd.stop();
    throw e;
  });
  const log = join(sshd.dir, 'log', 'gatekeeper.log');
  const stateDir = join(sshd.dir, 'state');
  mkdirSync(join(sshd.dir, 'log'), { mode: 0o700 });
  mkdirSync(stateDir, { mode: 0o700 });
  let seen = 0;
  return {
    sshd,
    dir: sshd.dir,
    log,
    stateDir,
    gatekeeper,
    usePolicy(name, input, node) {
      const file = writePolicy(join(sshd.dir, 'policies'), name, { log, stateDir, ...input });
      useGate(sshd, file, node, gatekeeper);
      return file;
    },
    newRecords() {
      const all = readLog(log);
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh;
    },
    stop: () => sshd.stop(),
  };
}

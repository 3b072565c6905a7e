// A log big enough for audit's split read (read/split.ts), and a run that
// watches for the worker thread: shared by the CLI's test
// (test/audit/memory.test.ts) and the executable's (test/package).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { SPLIT_MIN } from '../../src/audit/read/split.js';
import { type AuditIo, type AuditOptions, runAudit } from '../../src/audit/run.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** How a split read ended ('none': it did not split). */
export type Outcome = 'merged' | 'read-again' | 'worker-failed' | 'none';

/** runAudit in this process, its output caught, any file big enough to split (split.test.ts, split-report.test.ts). */
export async function auditInProcess(opts: AuditOptions, io: Partial<AuditIo> & { now: number; split: boolean }) {
  const stdout = new Sink();
  const stderr = new Sink();
  let outcome: Outcome = 'none';
  const status = await runAudit(opts, { stdout, stderr, env: {}, splitMin: 0, ...io, splitOutcome: (how) => (outcome = how) });
  return { result: { status, stdout: stdout.text, stderr: stderr.text }, outcome };
}

/** Just over SPLIT_MIN of distinct version 2 records (hex sessions, three hosts, some refusals) in `file`. */
export function writeSplitLog(file: string): void {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < SPLIT_MIN + 1e6; i++) {
    const deny = i % 7 === 0;
    const line = JSON.stringify({
      level: deny ? 40 : 30,
      time: Date.parse('2026-11-01T00:00:00Z') + i * 1000,
      pid: 1000 + (i % 50000),
      hostname: `srv${i % 3}`,
      v: 2,
      policy: `policy-${i % 11}`,
      session: i.toString(16).padStart(16, '0'),
      user: 'root',
      client: { addr: `198.51.100.${i % 200}`, port: 40000 },
      server: null,
      key: 'ED25519 SHA256:4mJ7xbdBMp8kWcT2vzJ3vN1ftH0Kpf0vQw3mXbYVb9o',
      command: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /',
      argv: ['/usr/bin/rsync', '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', '/'],
      event: deny ? 'deny' : 'allow',
      code: deny ? 'access' : 'allowed',
      msg: deny ? 'this policy is read-only' : 'allowed: pull',
    });
    out.push(line);
    size += line.length + 1;
  }
  writeFileSync(file, out.join('\n') + '\n');
}

/**
 * Run a command to its end, looking at its process meanwhile: the argv it
 * runs with and its environment (after a restart by execve, same pid) and whether a thread named
 * WorkerThread (Node's name for a worker's thread) ever showed.
 */
export async function runWatchingWorker(cmd: string, args: string[], env?: NodeJS.ProcessEnv) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  let stdout = '';
  let stderr = '';
  // Decoded as a stream: a character split between two chunks must not become two broken ones.
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
  let argv: string[] = [];
  let environ: string[] = [];
  let worker = false;
  while (!exited && !worker) {
    try {
      argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0').filter(Boolean);
      worker = readdirSync(`/proc/${child.pid}/task`).some((t) => readFileSync(`/proc/${child.pid}/task/${t}/comm`, 'utf8').trim() === 'WorkerThread');
    } catch {
      /* a task ended between two reads */
    }
    await new Promise((r) => setImmediate(r));
  }
  return { status: await done, stdout, stderr, argv, environ, worker };
}

// A private, root-owned laboratory for attacking the gate as a real process.
//
// The policy's "rsync" is a recorder script: if the gate ever runs it, it
// leaves a marker file (with its argv and environment). So "nothing was
// executed" is a fact checked on disk, not an assumption. The policy root is
// a small tree next to an "outside" directory holding a secret, with a
// symlink inside root pointing out, so path escapes have something to reach;
// and next to "root2", a sibling whose name extends root's (a containment
// check comparing names without the "/" after root takes it for root).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PolicyInput } from '../../src/policy/schema.js';
import { parseRecordLine, type LogRecord } from '../../src/log/record.js';

export const REPO = join(import.meta.dirname, '..', '..');
// GATEKEEPER_BUNDLE points the tests at a private build (scripts/build.mjs
// --outdir DIR), so a concurrent `npm run build` cannot swap dist/ mid-run.
export const GATEKEEPER = process.env.GATEKEEPER_BUNDLE ?? join(REPO, 'dist', 'gatekeeper.mjs');
/** Node 20 from npm (runtimes/, scripts/runtimes.sh): no process.execve, so the gate takes its spawn fallback. */
export const NODE20 = join(REPO, 'runtimes', 'node_modules', 'node20-linux-x64', 'bin', 'node');
export const SSH_CONNECTION = '127.0.0.1 5555 127.0.0.1 22';

export interface GateRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunGateOptions {
  /** Policy name or absolute path (default: the lab's policy "lab"). */
  policy?: string;
  policyDir?: string;
  /** Node binary (default: the one running the tests). */
  node?: string;
  /** Extra environment for the gate (as sshd would pass, e.g. via PermitUserEnvironment). */
  env?: Record<string, string>;
  /** null: leave SSH_ORIGINAL_COMMAND unset (the client asked for a shell). */
  command: string | null;
  stdin?: 'ignore' | 'pipe';
}

/** Run `gatekeeper gate` as sshd would, with a clean environment; resolves when it exits. */
export function runGate(opts: RunGateOptions & { defaultPolicy: string }): Promise<GateRun> {
  const env: Record<string, string> = { SSH_CONNECTION, USER: 'root', PATH: '/usr/bin:/bin', ...opts.env };
  if (opts.command !== null) env.SSH_ORIGINAL_COMMAND = opts.command;
  const args = [GATEKEEPER, 'gate', '--policy', opts.policy ?? opts.defaultPolicy];
  if (opts.policyDir) args.push('--policy-dir', opts.policyDir);
  return new Promise((resolve, reject) => {
    const child = spawn(opts.node ?? process.execPath, args, { env, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Every record of a log file (throws on a line that is not a valid record: a torn write). */
export function readRecords(file: string): LogRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const r = parseRecordLine(l);
      if (!r) throw new Error(`not a log record: ${JSON.stringify(l)}`);
      return r;
    });
}

/** A shallow-deep listing (name, type, size, mtime) of a directory tree: "was anything written?". */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${rel}${name} ${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out;
}

export const SECRET = 'outside-secret-7f3a\n';

export interface Lab {
  dir: string;
  /** The policy root. */
  root: string;
  /** A sibling of root with a secret; reachable only by escaping. */
  outside: string;
  /** root's sibling "root2" (root's name extended), with a secret too; root/twin-link points to it. */
  twin: string;
  log: string;
  stateDir: string;
  /** Created by the recorder when (and only when) the target runs. */
  marker: string;
  recorder: string;
  policyDir: string;
  /** Absolute path of the default policy ("lab"). */
  policy: string;
  /** Write a policy file into the lab's policy dir (log and stateDir filled in); returns its path. */
  writePolicy(name: string, input: PolicyInput): string;
  run(opts: RunGateOptions): Promise<GateRun>;
  records(): LogRecord[];
  cleanup(): void;
}

/**
 * The recorder must not contain the text of rsync's confine option, or the
 * gate's capability probe (a byte search in the target) would believe it is
 * an rsync 3.5.
 */
function recorderScript(marker: string): string {
  return [
    '#!/bin/sh',
    '# Stand-in for rsync: proves by a file whether the gate ran it.',
    `{ printf 'ran'; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >> '${marker}'`,
    `env > '${marker}.env'`,
    'exit 0',
    '',
  ].join('\n');
}

export function makeLab(prefix = 'gk-sec-', policy: PolicyInput = {}): Lab {
  const dir = mkdtempSync(join('/tmp', prefix));
  chmodSync(dir, 0o700);
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  const twin = join(dir, 'root2');
  const policyDir = join(dir, 'policies');
  const log = join(dir, 'log', 'gate.log');
  const stateDir = join(dir, 'state');
  const marker = join(dir, 'EXECUTED');
  const recorder = join(dir, 'bin', 'rsync');
  for (const d of [root, outside, twin, policyDir, join(dir, 'log'), stateDir, join(dir, 'bin')]) mkdirSync(d, { mode: 0o700 });
  // Directories inside root are world-readable like a real tree; only the lab dir is private.
  chmodSync(root, 0o755);
  writeFileSync(recorder, recorderScript(marker), { mode: 0o755 });
  chmodSync(recorder, 0o755);
  mkdirSync(join(root, 'data', 'sub'), { recursive: true });
  writeFileSync(join(root, 'data', 'file.txt'), 'inside\n');
  writeFileSync(join(root, 'data', 'sub', 'deep.txt'), 'deep\n');
  writeFileSync(join(root, 'list.txt'), 'data/file.txt\n');
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(outside, 'list.txt'), 'secret.txt\n');
  symlinkSync(outside, join(root, 'link-out'));
  symlinkSync('../outside/secret.txt', join(root, 'secret-link'));
  writeFileSync(join(twin, 'secret.txt'), SECRET);
  writeFileSync(join(twin, 'list.txt'), 'secret.txt\n');
  symlinkSync('../root2', join(root, 'twin-link'));

  const writePolicy = (name: string, input: PolicyInput) => {
    const file = join(policyDir, `${name}.yaml`);
    writeFileSync(file, stringify({ log, stateDir, ...input }), { mode: 0o600 });
    chmodSync(file, 0o600);
    return file;
  };
  // The most permissive ordinary policy: whatever is refused is refused by the gate's own rules.
  // describe: false: the corpus holds the gate to refusals only (the welcome and describe forms: test/gate/describe.test.ts).
  const main = writePolicy('lab', { rsync: recorder, access: 'read-write', delete: true, root, describe: false, ...policy });
  return {
    dir,
    root,
    outside,
    twin,
    log,
    stateDir,
    marker,
    recorder,
    policyDir,
    policy: main,
    writePolicy,
    run: (opts) => runGate({ ...opts, defaultPolicy: main }),
    records: () => readRecords(log),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run `items` through `fn` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      results[k] = await fn(items[k]!, k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

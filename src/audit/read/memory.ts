// Reading a big log makes V8 grow its young generation to its default
// maximum (three 16 MiB semi-spaces on 64-bit): most of audit --summary's
// resident set over a million records. Its size can only be set on node's
// command line (v8.setFlagsFromString at run time has no effect on it), so
// for a big read audit starts itself again, same pid and arguments, with
// --max-semi-space-size. Measured on 1,000,000 records (517 MiB): peak RSS
// 200-230 MB without, 126 MB with, for ~15% more time.
import { statSync } from 'node:fs';
import type { Family } from './sources.js';

export const SEMI_SPACE_FLAG = '--max-semi-space-size=8';

/**
 * What the restart adds: the smaller young generation, and gc(), which the
 * report's finish calls between the big steps of building its page
 * (views/html.ts; nothing else calls it). Measured over 1,000,000 records:
 * docs/performance.md, "Flags for the restart".
 */
export const RESTART_FLAGS: readonly string[] = [SEMI_SPACE_FLAG, '--expose-gc'];

/**
 * For a summary read on two threads (split.ts): a young generation of 2 MiB
 * semi-spaces, in each thread's heap. Measured over 1,000,000 records
 * (docs/performance.md): 8 MiB 170-174 MB peak, 4 MiB 159-163 MB, 2 MiB
 * 152-154 MB, the time the same; one thread gains nothing from it, and the
 * report needs the 8 (2 MiB: 195-208 MB against 193-194 MB).
 */
export const SPLIT_RESTART_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--expose-gc'];

/**
 * For a report read on two threads (split.ts): 4 MiB semi-spaces, and one
 * malloc arena (glibc's MALLOC_ARENA_MAX: the worker thread's own arena
 * keeps the pages its read buffers freed). Measured over 1,000,000 records
 * (docs/performance.md), peak RSS: 8 MiB 203-214 MB, 4 MiB 192-201 MB, 4 MiB
 * and one arena 192-195 MB, the time the same within the noise.
 */
export const REPORT_SPLIT_RESTART: Restart = { flags: ['--max-semi-space-size=4', '--expose-gc'], env: { MALLOC_ARENA_MAX: '1' } };

/** How a big read starts again: node's flags, and variables added to the environment. */
export interface Restart {
  flags: readonly string[];
  env?: Readonly<Record<string, string>>;
}

export const SPLIT_RESTART: Restart = { flags: SPLIT_RESTART_FLAGS };

/** Reads of at least this many bytes (gzip counted at 10 ×) start again with the flag. */
export const BIG_READ = 64 * 1024 * 1024;

/** Bytes the families hold (gzip files at 10 × their size); Infinity when one of them is stdin. */
export function inputBytes(families: readonly Family[]): number {
  let total = 0;
  for (const f of families) {
    for (const file of f.files) {
      if (file === '-') return Number.POSITIVE_INFINITY;
      try {
        total += statSync(file).size * (file.endsWith('.gz') ? 10 : 1);
      } catch {
        /* gone meanwhile: the reader reports it */
      }
    }
  }
  return total;
}

/**
 * The command line that starts this node again with the flag, or null when
 * it already has one (no loop) or this node cannot replace itself.
 */
export function restartArgv(execPath: string, execArgv: readonly string[], argv: readonly string[], canExecve: boolean, flags: readonly string[] = RESTART_FLAGS): string[] | null {
  if (!canExecve || execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return null;
  return [execPath, ...flags, ...execArgv, ...argv.slice(1)];
}

/**
 * The same inside the self-contained executable, where flags on the command
 * line go to gatekeeper, not to Node, and NODE_OPTIONS is ignored (sea-config
 * execArgvExtension "cli", scripts/lib/executable.mjs): the flag travels as
 * `--node-options=FLAG`, the first argument, which only whoever starts the
 * executable can pass (a client cannot: a forced command's arguments are
 * root's). argv is the one it was started with. Null when execArgv has the
 * flag already (no loop).
 */
export function restartInExecutable(argv: readonly string[], execArgv: readonly string[], env: NodeJS.ProcessEnv, flags: readonly string[] = RESTART_FLAGS): { args: string[]; env: NodeJS.ProcessEnv } | null {
  if (execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return null;
  // argv[0] is the executable, argv[1] the name it was started by, then gatekeeper's arguments.
  return { args: [argv[1] ?? argv[0]!, `--node-options=${flags.join(' ')}`, ...argv.slice(2)], env };
}

/** Replace this process with itself plus the flags, when it can; returns when it cannot. */
export function restartWithSmallYoungGeneration(how: Restart = { flags: RESTART_FLAGS }): void {
  const { flags } = how;
  const env = { ...process.env, ...how.env };
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (!execve) return;
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea') | undefined;
  if (sea?.isSea()) {
    const next = restartInExecutable(process.argv, process.execArgv, env, flags);
    if (!next) return;
    process.removeAllListeners('warning');
    execve(process.execPath, next.args, next.env);
  }
  const next = restartArgv(process.execPath, process.execArgv, process.argv, true, flags);
  if (!next) return;
  process.removeAllListeners('warning'); // execve's "experimental" notice must not reach the admin's terminal
  execve(process.execPath, next, env);
}

// A big read starts audit again with a smaller young generation (src/audit/read/memory.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIG_READ, inputBytes, REPORT_SPLIT_RESTART, RESTART_FLAGS, restartArgv, restartInExecutable, SEMI_SPACE_FLAG, SPLIT_RESTART_FLAGS } from '../../src/audit/read/memory.js';
import { runWatchingWorker, writeSplitLog } from './split-helpers.js';
import { tempDir } from '../helpers/policy.js';
import { CLI, lines, NODE } from './helpers.js';
import { waitUntil } from '../helpers/wait.js';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('restartArgv', () => {
  it('adds the flags (the small young generation, gc() for the report) before the rest of node\'s own options, then the script and its arguments', () => {
    expect(RESTART_FLAGS).toEqual([SEMI_SPACE_FLAG, '--expose-gc']);
    expect(restartArgv('/usr/bin/node', ['--no-warnings'], ['/usr/bin/node', '/usr/local/bin/gatekeeper', 'audit', '--summary'], true)).toEqual([
      '/usr/bin/node',
      SEMI_SPACE_FLAG,
      '--expose-gc',
      '--no-warnings',
      '/usr/local/bin/gatekeeper',
      'audit',
      '--summary',
    ]);
  });
  it('never twice, and not without execve', () => {
    expect(restartArgv('/n', [SEMI_SPACE_FLAG], ['/n', 'x'], true)).toBeNull();
    expect(restartArgv('/n', ['--max-semi-space-size=32'], ['/n', 'x'], true)).toBeNull();
    expect(restartArgv('/n', [], ['/n', 'x'], false)).toBeNull();
  });
});

describe('inputBytes', () => {
  it('adds the sizes of every file of every family, gzip at ten times, stdin as unbounded', () => {
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log.1.gz');
    writeFileSync(a, 'x'.repeat(1000));
    writeFileSync(b, 'y'.repeat(100));
    expect(inputBytes([{ base: a, files: [b, a] }])).toBe(1000 + 100 * 10);
    expect(inputBytes([{ base: a, files: [a] }, { base: '-', files: ['-'] }])).toBe(Number.POSITIVE_INFINITY);
    expect(inputBytes([{ base: join(dir, 'gone'), files: [join(dir, 'gone')] }])).toBe(0);
  });
});

describe('the CLI on a big read', () => {
  const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  // For as long as it takes (no deadline a loaded machine can beat): see test/helpers/wait.ts.
  const waitFor = (ok: () => boolean, _what: string) => waitUntil(ok);

  it.runIf(typeof (process as { execve?: unknown }).execve === 'function')(
    'starts again with the flag, same pid, and gives the same answer as a small read',
    async () => {
      // stdin counts as a big read: the restarted process then waits for it, so the check is not a race.
      const child = spawn(NODE, [CLI, 'audit', '--log', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor(() => {
        try {
          return cmdline(child.pid!).includes(SEMI_SPACE_FLAG);
        } catch {
          return false;
        }
      }, 'the restart');
      expect(cmdline(child.pid!)).toEqual([NODE, SEMI_SPACE_FLAG, '--expose-gc', CLI, 'audit', '--log', '-', '--json']);
      const text = lines({ time: '2026-11-20T10:00:00.000Z' }, { time: '2026-11-20T10:05:00.000Z', event: 'deny', reason: 'no' });
      child.stdin.end(text);
      expect(await done, stderr).toBe(0);
      expect(stdout).toBe(text);
    },
  );

  it.runIf(typeof (process as { execve?: unknown }).execve === 'function')(
    'the report, restarted with gc() exposed, still writes its page (and refuses nothing)',
    async () => {
      const child = spawn(NODE, [CLI, 'audit', '--log', '-', '--html', '-', '--now', '2026-11-20T12:00:00Z'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor(() => {
        try {
          return cmdline(child.pid!).includes('--expose-gc');
        } catch {
          return false;
        }
      }, 'the restart');
      child.stdin.end(
        lines(
          { time: '2026-11-20T01:00:00.000Z', hostname: 'host-a' },
          { time: '2026-11-20T01:30:00.000Z', hostname: 'host-a', event: 'exit', status: 0, reason: 'rsync exited with status 0' },
          { time: '2026-11-20T02:00:00.000Z', hostname: 'host-b', event: 'deny', reason: 'no' },
        ),
      );
      expect(await done, stderr).toBe(0);
      expect(stderr).toBe('');
      expect(stdout.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(stdout).toContain('data-host="host-a"');
      expect(stdout).toContain('data-host="host-b"');
      expect(stdout).toContain('data-state="completed"');
      expect(stdout).toContain('data-state="refused"');
    },
  );

  it.runIf(typeof (process as { execve?: unknown }).execve === 'function')(
    '--summary over one big file: restarts with the split read\'s flags, reads the second half in a worker thread, answers as one CPU does',
    async () => {
      const f = join(dir, 'big.log');
      writeSplitLog(f);
      const args = [CLI, 'audit', '--log', f, '--summary', '--now', '2026-12-01T00:00:00Z', '--policy-dir', join(dir, 'none')];
      const { status, stdout, stderr, argv: flags, worker } = await runWatchingWorker(NODE, args);
      expect(status, stderr).toBe(0);
      // A worker that failed would have said so here.
      expect(stderr).toBe('');
      expect(flags.slice(1, 3)).toEqual([...SPLIT_RESTART_FLAGS]);
      expect(worker).toBe(true);
      // One CPU (the affinity mask availableParallelism() reads): no split, the same answer.
      const one = await runWatchingWorker('taskset', ['-c', '0', NODE, ...args]);
      expect(one.status, one.stderr).toBe(0);
      expect(one.worker).toBe(false);
      expect(stdout).toBe(one.stdout);
      expect(stdout).toContain('srv2');
    },
  );

  it.runIf(typeof (process as { execve?: unknown }).execve === 'function')(
    '--html over one big file: restarts with the split report\'s flags and one malloc arena, parses the rest in a worker thread, writes the page one CPU writes',
    async () => {
      const f = join(dir, 'big-report.log');
      writeSplitLog(f);
      const args = [CLI, 'audit', '--log', f, '--html', '-', '--now', '2026-12-01T00:00:00Z', '--policy-dir', join(dir, 'none')];
      const { status, stdout, stderr, argv: flags, environ, worker } = await runWatchingWorker(NODE, args);
      expect(status, stderr).toBe(0);
      expect(stderr).toBe('');
      expect(flags.slice(1, 3)).toEqual([...REPORT_SPLIT_RESTART.flags]);
      expect(environ).toContain('MALLOC_ARENA_MAX=1');
      expect(worker).toBe(true);
      const one = await runWatchingWorker('taskset', ['-c', '0', NODE, ...args]);
      expect(one.status, one.stderr).toBe(0);
      expect(one.worker).toBe(false);
      expect(one.environ).not.toContain('MALLOC_ARENA_MAX=1');
      expect(stdout).toBe(one.stdout);
      expect(stdout).toContain('data-host="srv2"');
    },
  );

  it('counts a file by its size: a sparse file over the threshold is a big read', () => {
    const f = join(dir, 'big.log');
    writeFileSync(f, '');
    truncateSync(f, BIG_READ);
    expect(inputBytes([{ base: f, files: [f] }])).toBeGreaterThanOrEqual(BIG_READ);
  });
});

describe('restartInExecutable', () => {
  it('passes the flag as --node-options (the executable ignores NODE_OPTIONS; other flags go to the app) and keeps argv from the name it was started by', () => {
    expect(restartInExecutable(['/usr/bin/gatekeeper', 'gatekeeper', 'audit', '--summary'], ['--disable-sigusr1'], { PATH: '/usr/bin' })).toEqual({
      args: ['gatekeeper', `--node-options=${SEMI_SPACE_FLAG} --expose-gc`, 'audit', '--summary'],
      env: { PATH: '/usr/bin' },
    });
  });
  it('does not start again when execArgv has the flag', () => {
    expect(restartInExecutable(['/x', 'x', 'audit'], ['--openssl-config=/dev/null', '--max-semi-space-size=8'], {})).toBeNull();
  });
});

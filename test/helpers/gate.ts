// Running the built gatekeeper as a real process.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecordLine, type LogRecord } from '../../src/log/record.js';

export const REPO = join(import.meta.dirname, '..', '..');
export const BUNDLE = join(REPO, 'dist', 'gatekeeper.mjs');
/** Node 24 from the devDependency (has process.execve), whatever Node runs the tests. */
export const NODE = existsSync(join(REPO, 'node_modules', 'node', 'bin', 'node')) ? join(REPO, 'node_modules', 'node', 'bin', 'node') : process.execPath;
/** Node 20 from npm (runtimes/, scripts/runtimes.sh): no process.execve, so the gate takes its spawn fallback. */
export const NODE20 = join(REPO, 'runtimes', 'node_modules', 'node20-linux-x64', 'bin', 'node');

export interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runGate(args: string[], env: Record<string, string | undefined>, opts: { node?: string; input?: string; cwd?: string } = {}): Run {
  const r = spawnSync(opts.node ?? NODE, [BUNDLE, 'gate', ...args], {
    env: { PATH: '/usr/bin:/bin', ...env } as NodeJS.ProcessEnv,
    input: opts.input ?? '',
    cwd: opts.cwd ?? '/',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

export function runCli(args: string[], opts: { node?: string } = {}): Run {
  const r = spawnSync(opts.node ?? NODE, [BUNDLE, ...args], { env: { PATH: '/usr/bin:/bin' }, input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

export function readLog(file: string): LogRecord[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = parseRecordLine(l);
      if (!r) throw new Error(`not a log record: ${l}`);
      return r;
    });
}

/**
 * A stand-in rsync that records its pid, parent pid, working directory and
 * arguments, then exits with GK_EXIT (default 0). Root-owned, 0755, in a
 * root-owned 0700 directory: it passes the gate's trust checks.
 */
export function writeRecorder(dir: string, exitCode = 0): { path: string; out: string } {
  const path = join(dir, 'rsync');
  const out = join(dir, 'ran');
  writeFileSync(path, `#!/bin/sh\n{ echo "pid=$$"; echo "ppid=$PPID"; echo "cwd=$(pwd)"; echo "home=$HOME"; for a in "$@"; do echo "arg=$a"; done; } > ${out}\nexit ${exitCode}\n`, { mode: 0o755 });
  return { path, out };
}

export function recorded(out: string): { pid: number; ppid: number; cwd: string; home: string; args: string[] } | null {
  let text: string;
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    return null;
  }
  const lines = text.trim().split('\n');
  const get = (k: string) => lines.find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  return { pid: Number(get('pid')), ppid: Number(get('ppid')), cwd: get('cwd'), home: get('home'), args: lines.filter((l) => l.startsWith('arg=')).map((l) => l.slice(4)) };
}

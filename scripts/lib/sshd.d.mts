// Types for sshd.mjs (the private-sshd harness shared by test/e2e and scripts/demo.mjs).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export const SSHD: string;
export const SSH: string;
export const SSH_KEYGEN: string;
export const RSYNC: string;
export const REPO: string;
export const GATEKEEPER: string;
export const INSTALL_HINT: string;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  command: string[];
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface Started {
  child: ChildProcessWithoutNullStreams;
  done: Promise<RunResult>;
}

export interface Sshd {
  dir: string;
  port: number;
  pid: number;
  host: string;
  clientKey: string;
  clientPublicKey: string;
  authorizedKeys: string;
  config: string;
  logFile: string;
  hostKey: string;
  sshOptions: string[];
  rsyncShell: string;
  sshdLog(): string;
  setAuthorizedKeys(lines: string[]): void;
  ssh(args?: string[], opts?: RunOptions & { sshArgs?: string[] }): Promise<RunResult>;
  rsync(args: string[], opts?: RunOptions & { rsyncBinary?: string; sshArgs?: string[] }): Promise<RunResult>;
  spawnRsync(args: string[], opts?: RunOptions & { rsyncBinary?: string; sshArgs?: string[] }): Started;
  stopSync(opts?: { keepDir?: boolean }): void;
  stop(): Promise<void>;
}

export function missingPrerequisites(): string[] | null;
export function makePrivateDir(prefix?: string): string;
export function freePort(): Promise<number>;
export function startSshd(options?: { extraConfig?: string[]; prefix?: string; logLevel?: string; keyComment?: string; wrap?: string[] }): Promise<Sshd>;
export function gateCommand(o: { policy: string; node?: string; gatekeeper?: string; extra?: string[] }): string;
export function authorizedKeysLine(command: string, publicKey: string, options?: string[]): string;
export function run(file: string, args: string[], opts?: RunOptions): Promise<RunResult>;
export function start(file: string, args: string[], opts?: RunOptions): Started;

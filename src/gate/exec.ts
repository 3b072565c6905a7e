// Starting rsync. With process.execve (Node >= 22.15 / 23.11) rsync replaces
// the gate: same pid, nothing of Node stays resident. Older Node spawns rsync
// with the same stdio, forwards the signals sshd sends, and exits with
// rsync's status.
export type ExecMethod = 'execve' | 'spawn';

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

export function execMethod(): ExecMethod {
  return typeof (process as { execve?: unknown }).execve === 'function' ? 'execve' : 'spawn';
}

/** Replace this process with argv. Returns only by throwing. */
export function execReplace(argv: readonly string[], env: Record<string, string>): never {
  const execve = (process as unknown as { execve: Execve }).execve;
  // Node reports execve as experimental; the warning is printed on a later
  // tick that never comes, but make sure nothing can reach stderr (the
  // client's terminal) or, worse, stdout.
  process.removeAllListeners('warning');
  return execve(argv[0]!, [...argv], env);
}

export interface ChildOutcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** rsync's pid: its --log-file lines carry it, and the exit record names it for audit. */
  pid: number | undefined;
}

/** Run argv as a child with inherited stdio; resolves when it ends. */
export async function runChild(argv: readonly string[], env: Record<string, string>): Promise<ChildOutcome> {
  // Loaded here, not at the top: child_process (with net, dgram, streams) is
  // only needed by the fallback, and costs the execve path ~3 ms.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env, argv0: argv[0]! });
    const forward = (sig: NodeJS.Signals) => () => {
      child.kill(sig);
    };
    const handlers = (['SIGTERM', 'SIGINT', 'SIGHUP'] as const).map((sig) => {
      const h = forward(sig);
      process.on(sig, h);
      return [sig, h] as const;
    });
    child.on('error', reject);
    child.on('exit', (status, signal) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve({ status, signal, pid: child.pid });
    });
  });
}

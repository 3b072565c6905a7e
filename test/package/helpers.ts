// The artefacts of `npm run package` (dist/pkg/), and a private mount
// namespace in which no node exists, to prove the executable needs none.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/gate.js';

export const PKG = join(REPO, 'dist', 'pkg');
export const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** A file of dist/pkg; throws (the test fails, never skips) when the packages were not built. */
export function artefact(name: string): string {
  const file = join(PKG, name);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run package (npm test does)`);
  return file;
}

export const executable = (arch: 'x64' | 'arm64' = 'x64') => artefact(`gatekeeper-${VERSION}-linux-${arch}`);

/** Every node binary on this machine a process could reach: the system's, npm's and the runtimes'. */
export function nodeBinaries(): string[] {
  const candidates = [
    '/usr/bin/node',
    '/usr/local/bin/node',
    join(REPO, 'node_modules', 'node', 'bin', 'node'),
    join(REPO, 'runtimes', 'node_modules', 'node20-linux-x64', 'bin', 'node'),
    join(REPO, 'runtimes', 'node_modules', 'node24-linux-arm64', 'bin', 'node'),
  ];
  const real = new Set<string>();
  for (const c of candidates) if (existsSync(c)) real.add(realpathSync(c));
  return [...real];
}

/**
 * A private mount namespace (`unshare -m`, private propagation: no mount
 * made in it reaches the system). A holder process keeps it; programs enter
 * it with nsenter.
 */
export class PrivateMounts {
  protected constructor(private readonly holder: ChildProcess) {}

  static async start(): Promise<PrivateMounts> {
    const holder = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/usr/bin/sleep', 'infinity'], { stdio: 'ignore' });
    const ns = new PrivateMounts(holder);
    await ns.ready();
    return ns;
  }

  /** Wait until the holder is in its own namespace (unshare has exec'd sleep). */
  protected async ready(): Promise<void> {
    const own = readlinkSync('/proc/self/ns/mnt');
    for (;;) {
      let theirs = own;
      try {
        if (readFileSync(`/proc/${this.holder.pid}/comm`, 'utf8').trim() === 'sleep') theirs = readlinkSync(`/proc/${this.holder.pid}/ns/mnt`);
      } catch {
        /* not yet */
      }
      if (theirs !== own) return;
      // No count limit: a loaded machine may take long to exec; only unshare's exit ends the wait.
      if (this.holder.exitCode !== null || this.holder.signalCode !== null) {
        this.stop();
        throw new Error('unshare --mount did not start a private mount namespace');
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Bind-mount `source` over `target`, inside only. */
  bind(source: string, target: string): void {
    const r = this.run('/usr/bin/mount', ['--bind', source, target]);
    if (r.status !== 0) {
      this.stop();
      throw new Error(`mount --bind ${source} ${target}: ${r.stderr}`);
    }
  }

  /** The argv prefix that runs a program inside the namespace. */
  get enter(): string[] {
    return ['/usr/bin/nsenter', '-t', String(this.holder.pid), '-m', '--'];
  }

  /** Run a program inside, PATH=/usr/bin:/bin and only the environment given. */
  run(file: string, args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}) {
    const [cmd, ...pre] = this.enter;
    const r = spawnSync(cmd!, [...pre, file, ...args], { env: { PATH: '/usr/bin:/bin', ...opts.env }, input: opts.input ?? '', cwd: opts.cwd ?? '/', encoding: 'utf8', timeout: 300_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
  }

  stop(): void {
    if (this.holder.exitCode === null && this.holder.signalCode === null) this.holder.kill('SIGKILL');
  }
}

/** A private mount namespace where /dev/null is bind-mounted over every node binary. */
export class NodelessNamespace extends PrivateMounts {
  readonly masked: string[] = nodeBinaries();

  static override async start(): Promise<NodelessNamespace> {
    const holder = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/usr/bin/sleep', 'infinity'], { stdio: 'ignore' });
    const ns = new NodelessNamespace(holder);
    await ns.ready();
    for (const node of ns.masked) ns.bind('/dev/null', node);
    return ns;
  }
}

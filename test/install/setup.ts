// A throw-away "server" for install tests: an sshd_config shape, root's
// authorized_keys, prefix, config dir and logrotate dir, all in one temp
// directory, and the CLI run against it with every path overridden. Nothing
// touches the machine's /etc/ssh, /root/.ssh, /usr/local or /etc/gatekeeper.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { PolicyInput } from '../../src/policy/schema.js';
import { afterAll, beforeAll } from 'vitest';
import { hostKey, instantiate, type Shape } from '../sshd/shapes.js';

export const REPO = join(import.meta.dirname, '..', '..');
export const GATEKEEPER = join(REPO, 'dist', 'gatekeeper.mjs');
export const KEYS = join(REPO, 'test', 'fixtures', 'authorized_keys', 'keys');

export interface Server {
  base: string;
  sshdConfig: string;
  authorizedKeys: string;
  prefix: string;
  configDir: string;
  logrotateDir: string;
  policy: string;
  log: string;
  /** The path options every install/uninstall call gets. */
  args: string[];
}

export function makeServer(shape: Shape, hostKey: string, opts: { authorizedKeys?: string | null; policy?: PolicyInput } = {}): Server {
  const base = mkdtempSync(join(tmpdir(), `gk-install-${shape}-`));
  const sshdConfig = instantiate(shape, join(base, 'etc-ssh'), hostKey);
  const authorizedKeys = join(base, 'root', '.ssh', 'authorized_keys');
  if (opts.authorizedKeys !== null) {
    mkdirSync(join(base, 'root', '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(authorizedKeys, opts.authorizedKeys ?? '', { mode: 0o600 });
  }
  const log = join(base, 'log', 'gatekeeper', 'gatekeeper.log');
  const policy = join(base, 'policy-src', 'backup.yaml');
  mkdirSync(join(base, 'policy-src'), { mode: 0o755 });
  writeFileSync(policy, stringify({ description: 'test', root: '/srv', log, ...opts.policy }), { mode: 0o644 });
  const logrotateDir = join(base, 'logrotate.d');
  mkdirSync(logrotateDir);
  const prefix = join(base, 'prefix');
  const configDir = join(base, 'etc-gatekeeper');
  const args = ['--sshd-config', sshdConfig, '--authorized-keys', authorizedKeys, '--prefix', prefix, '--config-dir', configDir];
  return { base, sshdConfig, authorizedKeys, prefix, configDir, logrotateDir, policy, log, args };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [GATEKEEPER, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function installArgs(s: Server, key: string, extra: string[] = []): string[] {
  return ['install', '--policy', s.policy, '--key', key, ...s.args, '--logrotate-dir', s.logrotateDir, '--node', '/usr/bin/node', '--no-reload', '--host', 'backup.example.net', ...extra];
}

/** Every entry under `root`: type, mode, owner and content hash (files) or target (links). */
export function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = rel ? join(root, rel) : root;
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out[rel || '.'] = `dir ${mode} ${st.uid}:${st.gid}`;
      for (const n of readdirSync(abs).sort()) walk(rel ? `${rel}/${n}` : n);
    } else if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(abs)}`;
    else out[rel] = `file ${mode} ${st.uid}:${st.gid} ${createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16)}`;
  };
  walk('');
  return out;
}

/**
 * A test file's scratch servers: a host key for their sshd_config shapes, the
 * list makeServer's results go into, both removed after the file; the built
 * CLI checked first.
 */
export function scratchServers(prefix: string): { HOSTKEY: string; servers: Server[] } {
  const keyDir = mkdtempSync(join(tmpdir(), prefix));
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) rmSync(s.base, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });
  beforeAll(() => {
    if (!existsSync(GATEKEEPER)) throw new Error('run npm run build first');
  });
  return { HOSTKEY: hostKey(keyDir), servers };
}

// The bench's private world: a root-only directory holding its own build of
// the bundle, policies derived from the shipped one, a gate log, and a copy
// of rrsync whose rsync is /bin/true.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from '../lib/sshd.mjs';

export const RRSYNC = '/usr/bin/rrsync';
export const SHIPPED_POLICY = join(REPO, 'policies', 'system-backup.yaml');

/** Build the bundle into `dir` (not dist/, which others may rebuild meanwhile); returns the directory. */
export function buildBundle(dir) {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs'), '--outdir', dir], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
  return dir;
}

/**
 * The launcher `gatekeeper install` writes (install/launcher.in, filled as
 * src/install/deploy.ts launcherText fills it), running the bundle in `lib`
 * with `node`. sshd's forced command runs it as an executable: the kernel
 * reads its #! line. Returns its path.
 */
export function writeLauncher(file, node, lib) {
  const url = (p) => JSON.stringify(pathToFileURL(p).href);
  const values = { NODE: node, GATE_PATH: JSON.stringify(join(lib, 'gate.cjs')), GATE_URL: url(join(lib, 'gate.cjs')), BUNDLE_URL: url(join(lib, 'gatekeeper.mjs')) };
  const text = readFileSync(join(REPO, 'install', 'launcher.in'), 'utf8').replace(/@([A-Z_]+)@/g, (whole, name) => {
    if (!(name in values)) throw new Error(`launcher.in: unknown placeholder ${whole}`);
    return values[name];
  });
  writeFileSync(file, text, { mode: 0o755 });
  chmodSync(file, 0o755);
  return file;
}

/**
 * The shipped system-backup policy with its rsync, root, log and state
 * directory pointed into the bench. Written as YAML (what install deploys)
 * and as the equivalent JSON. Root-owned 0600 in a root-only directory, so
 * it passes the gate's trust checks.
 */
export function writePolicies(dir, name, { rsync, root, log, stateDir }) {
  const shipped = readFileSync(SHIPPED_POLICY, 'utf8');
  const replace = (text, key, value) => {
    const re = new RegExp(`^${key}: .*$`, 'm');
    return re.test(text) ? text.replace(re, `${key}: ${value}`) : `${text.trimEnd()}\n${key}: ${value}\n`;
  };
  let yaml = shipped;
  for (const [key, value] of Object.entries({ rsync, root, log, stateDir })) yaml = replace(yaml, key, value);
  const json = {
    description: 'Nightly pull of the whole system as root (read-only)',
    rsync,
    access: 'read-only',
    root,
    maxConnections: 1,
    log,
    stateDir,
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { yaml: join(dir, `${name}.yaml`), json: join(dir, `${name}.json`) };
  writeFileSync(files.yaml, yaml, { mode: 0o600 });
  writeFileSync(files.json, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  for (const f of Object.values(files)) chmodSync(f, 0o600);
  return files;
}

/** A copy of rrsync whose RSYNC is /bin/true; null when rrsync is not installed. */
export function rrsyncToTrue(dir) {
  if (!existsSync(RRSYNC)) return null;
  const text = readFileSync(RRSYNC, 'utf8');
  const re = /^RSYNC = .*$/m;
  if (!re.test(text)) throw new Error(`${RRSYNC}: no "RSYNC = ..." line to point at /bin/true`);
  const file = join(dir, 'rrsync-true');
  writeFileSync(file, text.replace(re, "RSYNC = '/bin/true'"), { mode: 0o700 });
  chmodSync(file, 0o700);
  return file;
}

/** `node -v` of a node binary, or null when it cannot run. */
export function nodeVersion(node) {
  const r = spawnSync(node, ['-p', 'process.version + " " + (typeof process.execve === "function" ? "execve" : "spawn")'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [version, exec] = r.stdout.trim().split(' ');
  return { version, exec };
}

/** The environment sshd gives a forced command (nothing of the bench's own). */
export function sshdLikeEnv(command) {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/bash',
    MAIL: '/var/mail/root',
    SSH_CLIENT: '127.0.0.1 50000 22',
    SSH_CONNECTION: '127.0.0.1 50000 127.0.0.1 22',
    SSH_ORIGINAL_COMMAND: command,
  };
}

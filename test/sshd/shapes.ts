// The sshd_config shapes of test/fixtures/sshd, made runnable in a temp dir:
// the drop-in Include points into the copy instead of /etc/ssh, and a HostKey
// of our own is put first (sshd -t and -T refuse to run without one). Nothing
// here reads or writes the machine's /etc/ssh.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SHAPES_DIR = join(import.meta.dirname, '..', 'fixtures', 'sshd');
export const SHAPES = ['debian', 'rhel', 'no-include', 'ends-in-match', 'match-root', 'odd-spellings'] as const;
export type Shape = (typeof SHAPES)[number];

/** An ed25519 host key in `dir` (made once). */
export function hostKey(dir: string): string {
  const key = join(dir, 'ssh_host_ed25519_key');
  if (!existsSync(key)) execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  return key;
}

/** Copy a shape into `dir`; returns the main file's path. */
export function instantiate(shape: Shape, dir: string, key: string): string {
  mkdirSync(dir, { recursive: true });
  cpSync(join(SHAPES_DIR, shape), dir, { recursive: true });
  // Debian ships sshd_config.d empty (git keeps no empty directories).
  if (shape === 'debian') mkdirSync(join(dir, 'sshd_config.d'), { recursive: true });
  const main = join(dir, 'sshd_config');
  const text = readFileSync(main, 'utf8').replaceAll('/etc/ssh/sshd_config.d', join(dir, 'sshd_config.d'));
  writeFileSync(main, `HostKey ${key}\n${text}`, { mode: 0o644 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  return main;
}

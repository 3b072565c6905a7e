// The module names of a daemon policy's rsyncd.conf, to tell a client that
// asked for a path which modules to use instead. The config is root's, named
// by the policy and trusted like it (the same chain check the gate makes
// before it starts the daemon with it); read only for that refusal, never on
// the path of an allowed transfer.
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { trustProblem } from './trust.js';

/** Larger than any rsyncd.conf in use; a bigger one is not read. */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Module names in an rsyncd.conf: its `[name]` section headers, as rsync's
 * params.c reads them (leading blanks allowed, the name trimmed, inner runs
 * of blanks one space), `[global]` aside (any case), each name once, in the
 * order written. Comment lines (`#`, `;`) are skipped; a name with a control
 * character or a slash (which rsync cannot serve) is left out. Modules that
 * `&include`/`&merge` would add are not followed.
 */
export function daemonModules(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^[ \t]*\[([^\]\n]*)\][ \t\r]*$/.exec(raw);
    if (!m) continue;
    const name = m[1]!.trim().replace(/[ \t]+/g, ' ');
    if (name === '' || name.toLowerCase() === 'global' || /[\x00-\x1f\x7f/]/.test(name)) continue;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * The module names of the rsyncd.conf at `config`, or null when it cannot be
 * read as a trusted regular file (as root: the trust chain, like the
 * policy's rsync). The refusal then speaks without names.
 */
export function readDaemonModules(config: string): string[] | null {
  if (process.getuid?.() === 0 && trustProblem(config) !== null) return null;
  let fd: number;
  try {
    fd = openSync(config, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_CONFIG_BYTES) return null;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return daemonModules(buf.subarray(0, got).toString('utf8'));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

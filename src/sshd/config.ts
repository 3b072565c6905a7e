// sshd_config: a line-preserving parser and small editors. The real sshd is
// the judge of what a file *means* (`sshd -t`, `sshd -T`, see run.ts); this
// module only has to find keywords, Include lines and Match blocks well
// enough to place an edit, and to reproduce every untouched byte.
//
// Grammar (servconf.c): blank lines and lines whose first word starts with
// `#` are ignored; the keyword (case-insensitive) is separated from its
// arguments by whitespace and/or one `=`; arguments may be double-quoted.
// Every keyword after a `Match` line belongs to that Match block until the
// next Match or the end of the file: a global keyword appended after a Match
// block silently becomes conditional, which is why edits go before it.
import { splitLines } from './authorized-keys.js';

export interface ConfigLine {
  raw: string;
  eol: string;
  /** 1-based line number. */
  lineNo: number;
  /** Keyword as written, or null for blank/comment lines. */
  keyword: string | null;
  /** Lower-cased keyword. */
  kw: string | null;
  args: string[];
  /** Index (into lines) of the Match line this line belongs to, or -1 when global. */
  match: number;
}

/** Split an argument string like sshd's argv_split: whitespace-separated, double or single quotes, `#` word starts a comment. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /[ \t\f\r]/.test(s[i] ?? '')) i++;
    if (i >= s.length) break;
    if (s[i] === '#') break;
    let word = '';
    let quote: string | null = null;
    for (; i < s.length; i++) {
      const c = s[i] ?? '';
      if (quote) {
        if (c === '\\' && (s[i + 1] === quote || s[i + 1] === '\\')) word += s[++i];
        else if (c === quote) quote = null;
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < s.length) word += s[++i];
      else if (/[ \t\f\r]/.test(c)) break;
      else word += c;
    }
    out.push(word);
  }
  return out;
}

export function parseSshdConfig(text: string): ConfigLine[] {
  let match = -1;
  return splitLines(text).map(({ raw, eol }, index) => {
    const line = raw.replace(/[ \t\f\r]+$/, '').replace(/^[ \t\f]+/, '');
    const m = /^([^ \t=]+)[ \t]*(?:=[ \t]*)?(.*)$/.exec(line);
    if (!m || line.startsWith('#')) return { raw, eol, lineNo: index + 1, keyword: null, kw: null, args: [], match };
    const keyword = m[1] ?? '';
    const kw = keyword.toLowerCase();
    if (kw === 'match') match = index;
    return { raw, eol, lineNo: index + 1, keyword, kw, args: splitArgs(m[2] ?? ''), match };
  });
}

export const printSshdConfig = (lines: readonly { raw: string; eol: string }[]): string =>
  lines.map((l) => l.raw + l.eol).join('');

/** Index of the first Match line, or lines.length. */
export function firstMatchIndex(lines: readonly ConfigLine[]): number {
  const i = lines.findIndex((l) => l.kw === 'match');
  return i === -1 ? lines.length : i;
}

/** Global (before the first Match) lines with this keyword. */
export function globalLines(lines: readonly ConfigLine[], kw: string): ConfigLine[] {
  return lines.filter((l) => l.kw === kw && l.match === -1);
}

/** sshd resolves relative Include paths against its configuration directory (SSHDIR, /etc/ssh). */
export function resolveInclude(arg: string, sshDir = '/etc/ssh'): string {
  if (arg.startsWith('/')) return arg;
  if (arg.startsWith('~')) return arg; // only valid in user configs; sshd rejects it
  return `${sshDir}/${arg}`;
}

export interface DropInDir {
  /** The directory of the glob. */
  dir: string;
  /** The file-name pattern (e.g. `*.conf`). */
  pattern: string;
  /** The Include line. */
  line: ConfigLine;
}

/**
 * Drop-in directories Included from the global section (before the first
 * Match), in file order. Found from the Include lines themselves: Debian and
 * RHEL both use `Include /etc/ssh/sshd_config.d/*.conf`, others differ.
 */
export function dropInDirs(lines: readonly ConfigLine[], sshDir = '/etc/ssh'): DropInDir[] {
  const out: DropInDir[] = [];
  for (const line of lines) {
    if (line.kw !== 'include' || line.match !== -1) continue;
    for (const arg of line.args) {
      const path = resolveInclude(arg, sshDir);
      const slash = path.lastIndexOf('/');
      const dir = path.slice(0, slash);
      const pattern = path.slice(slash + 1);
      // Only a wildcard in the last component makes a drop-in directory.
      if (/[*?[]/.test(pattern) && !/[*?[]/.test(dir) && dir !== '') out.push({ dir, pattern, line });
    }
  }
  return out;
}

/** fnmatch-style glob for one path component: `*`, `?`, `[...]`. */
export function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  // A leading dot is not matched by a wildcard (glob(3) without GLOB_PERIOD).
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  return new RegExp(`${re}$`).test(name);
}

/** Canonical PermitRootLogin value for comparison: case-insensitive, without-password = prohibit-password. */
export function canonicalPermitRootLogin(value: string): string {
  const v = value.trim().toLowerCase();
  return v === 'without-password' ? 'prohibit-password' : v;
}

/**
 * The files an AuthorizedKeysFile value names for a user (sshd_config(5)
 * TOKENS: %% %h %U %u; relative paths are relative to the home directory).
 */
export function authorizedKeysFiles(value: string, user: { name: string; uid: number; home: string }): string[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return splitArgs(value).map((p) => {
    const expanded = p.replace(/%(.)/g, (whole, c: string) => {
      if (c === '%') return '%';
      if (c === 'h') return user.home;
      if (c === 'u') return user.name;
      if (c === 'U') return String(user.uid);
      return whole;
    });
    if (expanded.startsWith('~/')) return `${user.home}${expanded.slice(1)}`;
    return expanded.startsWith('/') ? expanded : `${user.home.replace(/\/$/, '')}/${expanded}`;
  });
}

/** What the walker may read: a file's text, a directory's names (null when missing or unreadable). */
export interface ConfigReader {
  readFile(path: string): string | null;
  readDir(dir: string): string[] | null;
}

export interface SettingSource {
  file: string;
  lineNo: number;
  value: string;
}

/**
 * Where sshd takes a global keyword's value from: it reads the main file top
 * to bottom, descending into each Include where it stands (a glob's matches
 * in byte order, as glob(3) sorts them in sshd's C locale), and keeps the
 * first value it obtains. Only global lines count (a Match block in a file
 * lasts until that file's end). null when nothing sets it (sshd's default).
 * `extra` adds files to a directory's listing as if they were there (install
 * asks where a drop-in it has not written yet would rank).
 */
export function firstGlobalSetting(kw: string, mainPath: string, reader: ConfigReader, sshDir = '/etc/ssh', extra: ReadonlyMap<string, string> = new Map()): SettingSource | null {
  const read = (path: string) => extra.get(path) ?? reader.readFile(path);
  const walk = (path: string, text: string, depth: number): SettingSource | null => {
    if (depth > 16) return null; // sshd's own limit on nested Includes
    for (const line of parseSshdConfig(text)) {
      if (line.match !== -1) break;
      if (line.kw === kw) return { file: path, lineNo: line.lineNo, value: line.args.join(' ') };
      if (line.kw !== 'include') continue;
      for (const arg of line.args) {
        const full = resolveInclude(arg, sshDir);
        const slash = full.lastIndexOf('/');
        const dir = full.slice(0, slash);
        const pattern = full.slice(slash + 1);
        let files: string[];
        if (/[*?[]/.test(pattern)) {
          const names = new Set(reader.readDir(dir) ?? []);
          for (const p of extra.keys()) if (p.slice(0, p.lastIndexOf('/')) === dir) names.add(p.slice(p.lastIndexOf('/') + 1));
          files = [...names].filter((n) => globMatch(pattern, n)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map((n) => `${dir}/${n}`);
        } else files = [full];
        for (const f of files) {
          const t = read(f);
          if (t === null) continue;
          const found = walk(f, t, depth + 1);
          if (found) return found;
        }
      }
    }
    return null;
  };
  const main = read(mainPath);
  return main === null ? null : walk(mainPath, main, 0);
}

// The two questions rsync-time-backup asks about a remote source before it
// pulls (`test -e 'PATH'` and `df -T 'PATH'`), which the gate answers itself:
// no shell, no other program. This module is pure: it recognises the words,
// picks the mount from /proc/self/mountinfo's text and lays out df's table;
// src/gate/questions.ts does the reading, decide.ts the path confinement.

export type Question = { kind: 'test-e'; path: string } | { kind: 'df-T'; path: string };

/** The question these words ask (tokenized as sh would, src/shell/tokenize.ts), or null when they ask none. */
export function parseQuestion(words: readonly string[]): Question | null {
  if (words.length !== 3) return null;
  const [program, flag, path] = words as [string, string, string];
  if (program === 'test' && flag === '-e') return { kind: 'test-e', path };
  if (program === 'df' && flag === '-T') return { kind: 'df-T', path };
  return null;
}

/** How a question is named in reasons and in the log's code. */
export const questionName = (q: Question): string => (q.kind === 'test-e' ? 'test -e' : 'df -T');

export interface Mount {
  /** The mounted source as the kernel names it (a device, "tmpfs", a server:/export ...). */
  source: string;
  fstype: string;
  mountPoint: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parse /proc/self/mountinfo (proc(5)): one Mount per line, in the kernel's order. */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0 || dash + 2 >= fields.length) continue;
    mounts.push({ mountPoint: unescape(fields[4]!), fstype: unescape(fields[dash + 1]!), source: unescape(fields[dash + 2]!) });
  }
  return mounts;
}

/** The mount a canonical path is on: the longest mount point containing it; of equal ones the last (it is mounted over the others). */
export function mountOf(path: string, mounts: readonly Mount[]): Mount | null {
  let best: Mount | null = null;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const contains = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (contains && (best === null || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** What df reads of statfs(2): block size and block counts. */
export interface Usage {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}

/** GNU df's columns for -T: header, minimum width, alignment. */
const COLUMNS = [
  { header: 'Filesystem', width: 14, left: true },
  { header: 'Type', width: 4, left: true },
  { header: '1K-blocks', width: 5, left: false },
  { header: 'Used', width: 5, left: false },
  { header: 'Available', width: 5, left: false },
  { header: 'Use%', width: 4, left: false },
  { header: 'Mounted on', width: 0, left: true },
] as const;

/** Control characters df would not print raw. */
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, '?');

/**
 * `df -T PATH` as GNU coreutils prints it: a header and one line, 1K blocks
 * rounded up, Use% = used / (used + available) rounded up ("-" when both
 * are 0), columns at least GNU's minimum widths, one space apart, the last
 * one unpadded.
 */
export function formatDf(mount: Mount, usage: Usage): string {
  const kib = (n: number) => Math.ceil((n * usage.bsize) / 1024);
  const used = usage.blocks - usage.bfree;
  const total = used + usage.bavail;
  const pct = total > 0 && used >= 0 ? `${Math.ceil((used * 100) / total)}%` : '-';
  const row = [printable(mount.source), printable(mount.fstype), String(kib(usage.blocks)), String(kib(used)), String(kib(usage.bavail)), pct, printable(mount.mountPoint)];
  const widths = COLUMNS.map((c, i) => Math.max(c.width, c.header.length, row[i]!.length));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        if (i === cells.length - 1) return cell;
        return COLUMNS[i]!.left ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
      })
      .join(' ');
  return `${line(COLUMNS.map((c) => c.header))}\n${line(row)}\n`;
}

// Where one global sshd keyword of gatekeeper's goes (PermitRootLogin,
// RevokedKeys), as a pure function of the main sshd_config's text, one rule
// for all of them because sshd keeps the first value it obtains:
//  - a drop-in directory Included from the global section gets a file of its
//    own that sorts first, unless the main file sets the keyword before it;
//  - otherwise the first global line with the keyword is changed in place;
//  - otherwise the lines are inserted before the first Match block.
// The real sshd then confirms what it reads (`sshd -t`, `sshd -T`).
import { dropInDirs, firstMatchIndex, globalLines, globMatch, parseSshdConfig, printSshdConfig, type ConfigLine } from './config.js';

export type SettingPlan =
  | { kind: 'dropin'; path: string; content: string; include: ConfigLine }
  | { kind: 'edit'; path: string; text: string; mode: 'replaced' | 'inserted'; original: string | null; written: string[]; index: number; addedTrailingNewline: boolean };

export interface GlobalSetting {
  /** The keyword as sshd_config(5) spells it. */
  keyword: string;
  value: string;
  /** Candidate drop-in names, the first the Include's glob matches is used. */
  dropinNames: readonly string[];
  /** The drop-in's comment lines (without `# `), and the marker above lines inserted into the main file. */
  comment: readonly string[];
  marker: string;
}

export function planGlobalSetting(mainPath: string, text: string, s: GlobalSetting, sshDir = '/etc/ssh'): SettingPlan {
  const lines = parseSshdConfig(text);
  const kw = s.keyword.toLowerCase();
  const first = globalLines(lines, kw)[0];
  const directive = `${s.keyword} ${s.value}`;
  for (const d of dropInDirs(lines, sshDir)) {
    if (first && first.lineNo < d.line.lineNo) break; // the main file's value is read first
    const name = s.dropinNames.find((n) => globMatch(d.pattern, n));
    if (name) return { kind: 'dropin', path: `${d.dir}/${name}`, content: `${s.comment.map((c) => `# ${c}\n`).join('')}${directive}\n`, include: d.line };
  }
  const out = lines.map((l) => ({ raw: l.raw, eol: l.eol }));
  if (first) {
    const i = first.lineNo - 1;
    const indent = /^[ \t]*/.exec(first.raw)?.[0] ?? '';
    const written = `${indent}${directive}`;
    out[i] = { raw: written, eol: first.eol };
    return { kind: 'edit', path: mainPath, text: printSshdConfig(out), mode: 'replaced', original: first.raw, written: [written], index: i, addedTrailingNewline: false };
  }
  return insertBeforeFirstMatch(mainPath, lines, [s.marker, directive]);
}

/** The main file with `written` inserted before its first Match block (a newline added to a last line without one). */
export function insertBeforeFirstMatch(mainPath: string, lines: readonly ConfigLine[], written: string[]): SettingPlan & { kind: 'edit' } {
  const at = firstMatchIndex(lines);
  const out = lines.map((l) => ({ raw: l.raw, eol: l.eol }));
  let addedTrailingNewline = false;
  if (at === out.length && at > 0 && out[at - 1]!.eol === '') {
    out[at - 1] = { ...out[at - 1]!, eol: '\n' };
    addedTrailingNewline = true;
  }
  out.splice(at, 0, ...written.map((raw) => ({ raw, eol: '\n' })));
  return { kind: 'edit', path: mainPath, text: printSshdConfig(out), mode: 'inserted', original: null, written, index: at, addedTrailingNewline };
}

// Where root's PermitRootLogin change goes, as a pure function of the main
// sshd_config's text. sshd keeps the *first* value it obtains for a keyword,
// and a Match block overrides it for matching connections, so:
//  - a drop-in directory Included from the global section (Debian, RHEL)
//    gets 00-gatekeeper.conf, sorting before e.g. RHEL's 01-permitrootlogin.conf,
//    unless the main file sets PermitRootLogin before that Include;
//  - otherwise the first global PermitRootLogin line is changed in place
//    (the original setup's `no` → `forced-commands-only`);
//  - otherwise the line is inserted before the first Match block (never
//    after it: there it would silently become part of the Match block).
// The real sshd then confirms the result (see install/sshd.ts).
import { insertBeforeFirstMatch, planGlobalSetting, type GlobalSetting } from '../sshd/global-setting.js';
import { canonicalPermitRootLogin, dropInDirs, globMatch, parseSshdConfig, printSshdConfig, type ConfigLine, type SettingSource } from '../sshd/config.js';

export const WANTED = 'forced-commands-only';
export const DROPIN_NAMES = ['00-gatekeeper.conf', '00-gatekeeper'];
export const MARKER = '# Added by gatekeeper install; `gatekeeper uninstall --all` removes it.';

/** PermitRootLogin as install sets it: the rule of every global keyword of gatekeeper's (src/sshd/global-setting.ts). */
const PERMIT_ROOT_LOGIN: GlobalSetting = {
  keyword: 'PermitRootLogin',
  value: WANTED,
  dropinNames: DROPIN_NAMES,
  comment: [
    'Written by gatekeeper install: root may log in only with keys that carry a',
    'forced command (command="..." in authorized_keys). sshd keeps the first value',
    'it reads, and this file sorts first. `gatekeeper uninstall --all` removes it.',
  ],
  marker: MARKER,
};

export const dropInContent = (): string => `${PERMIT_ROOT_LOGIN.comment.map((c) => `# ${c}\n`).join('')}PermitRootLogin ${WANTED}\n`;

export type SshdPlan =
  | { kind: 'dropin'; path: string; content: string; include: ConfigLine }
  | {
      kind: 'edit';
      path: string;
      text: string;
      /** 'replaced': `original` line became `written[0]`; 'inserted': `written` lines were added at `index`. */
      mode: 'replaced' | 'inserted';
      original: string | null;
      written: string[];
      index: number;
      addedTrailingNewline: boolean;
    };

export function planSshdChange(mainPath: string, text: string, sshDir = '/etc/ssh'): SshdPlan {
  return planGlobalSetting(mainPath, text, PERMIT_ROOT_LOGIN, sshDir);
}

/**
 * Undo an edit in the main file, touching only lines that are still exactly
 * what install wrote. Returns null when they are not there any more.
 */
export function planSshdRevert(text: string, edit: { mode: 'replaced' | 'inserted'; original: string | null; written: string[]; addedTrailingNewline: boolean }): string | null {
  const lines = parseSshdConfig(text).map((l) => ({ raw: l.raw, eol: l.eol }));
  const n = edit.written.length;
  for (let i = 0; i + n <= lines.length; i++) {
    if (!edit.written.every((w, k) => lines[i + k]!.raw === w)) continue;
    if (edit.mode === 'replaced' && edit.original !== null) {
      lines[i] = { raw: edit.original, eol: lines[i]!.eol };
    } else {
      lines.splice(i, n);
      const prev = lines[i - 1];
      if (edit.addedTrailingNewline && i === lines.length && prev) lines[i - 1] = { ...prev, eol: '' };
    }
    return printSshdConfig(lines);
  }
  return null;
}

/** Lines of Match blocks in this file that set PermitRootLogin (to explain a refusal). */
export function matchOverrides(text: string): ConfigLine[] {
  return parseSshdConfig(text).filter((l) => l.kw === 'permitrootlogin' && l.match !== -1);
}

/**
 * When sshd would still take PermitRootLogin from another file after the
 * change (a drop-in that sorts before ours, a file Included earlier), the
 * one line install refuses with. install does not rename its drop-in to win:
 * the other file is the admin's, and which of two settings should hold is
 * the admin's call. null when the change is what sshd reads first.
 */
export function earlierSetting(plan: SshdPlan, first: SettingSource | null): string | null {
  if (!first || first.file === plan.path || canonicalPermitRootLogin(first.value) === WANTED) return null;
  return `${first.file}:${first.lineNo} sets PermitRootLogin ${first.value} and sshd reads it before ${plan.path} (the first value wins): change that line to PermitRootLogin ${WANTED} or remove it, then run install again. Nothing was changed.`;
}

// ---------------------------------------------------------------- certificates

/**
 * The settings `install --ca` adds, in a drop-in of their own (or a marked
 * block in the main file), separate from PermitRootLogin's so each can be
 * undone alone. What the block holds follows from what is installed:
 * TrustedUserCAKeys while a CA is; AuthorizedPrincipalsFile while a CA or a
 * principal is (never a trusted CA without it: sshd would then accept any
 * certificate whose principal is the user's name); ExposeAuthInfo yes with
 * either (the log names the certificate).
 */
export interface CaSettings {
  /** The CA file (TrustedUserCAKeys), or null when no CA is installed. */
  caFile: string | null;
  /** `DIR/%u` (AuthorizedPrincipalsFile), or null. */
  principals: string | null;
}

export const CA_DROPIN_NAMES = ['00-gatekeeper-ca.conf', '00-gatekeeper-ca'];
export const CA_MARKER = '# Added by gatekeeper install --ca; `gatekeeper uninstall --ca` removes it.';

export function caSettingLines(s: CaSettings): string[] {
  if (s.principals === null) {
    if (s.caFile !== null) throw new Error('a trusted CA needs AuthorizedPrincipalsFile');
    return [];
  }
  return [...(s.caFile !== null ? [`TrustedUserCAKeys ${s.caFile}`] : []), `AuthorizedPrincipalsFile ${s.principals}`, 'ExposeAuthInfo yes'];
}

export const caDropInContent = (s: CaSettings): string =>
  `# Written by gatekeeper install --ca: the SSH certificate authorities root\n` +
  `# trusts for the gate, and the principals file that maps each certificate's\n` +
  `# principal to a forced command. \`gatekeeper uninstall --ca\` removes it.\n` +
  caSettingLines(s).map((l) => `${l}\n`).join('');

/** Where the CA settings go: a drop-in directory Included from the global section, else a block before the first Match. */
export function planCaSshdChange(mainPath: string, text: string, s: CaSettings, sshDir = '/etc/ssh', where: 'any' | 'main' = 'any'): SshdPlan {
  const lines = parseSshdConfig(text);
  for (const d of where === 'any' ? dropInDirs(lines, sshDir) : []) {
    const name = CA_DROPIN_NAMES.find((n) => globMatch(d.pattern, n));
    if (name) return { kind: 'dropin', path: `${d.dir}/${name}`, content: caDropInContent(s), include: d.line };
  }
  return insertBeforeFirstMatch(mainPath, lines, [CA_MARKER, ...caSettingLines(s)]);
}

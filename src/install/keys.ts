// The authorized_keys edits, as pure functions of the file's text: add or
// update the gate's line for one key, and take it out again. Every other line
// keeps its bytes; the gate's line is replaced in place, never duplicated.
import {
  formatKeyLine,
  getOption,
  isDsaType,
  parseAuthorizedKeys,
  parseLine,
  printAuthorizedKeys,
  sameKey,
  type AuthorizedKeysLine,
  type KeyLine,
  type KeyOption,
  type PublicKey,
} from '../sshd/authorized-keys.js';
import { formatOpenSshTime } from '../sshd/expiry.js';

/** What sshd before 7.2 needs instead of `restrict` (which also implies the ones added later). */
export const LEGACY_RESTRICTIONS = ['no-port-forwarding', 'no-agent-forwarding', 'no-X11-forwarding', 'no-pty', 'no-user-rc'];

export interface GateLineSpec {
  /** The forced command, e.g. `/usr/local/bin/gatekeeper gate --policy system-backup`. */
  command: string;
  /** Client addresses/CIDRs for from="…". */
  from?: readonly string[];
  /** false for sshd < 7.2. */
  restrict: boolean;
  /** expiry-time="…" (epoch seconds): sshd refuses the key after it. */
  expires?: number;
}

export function gateOptions(spec: GateLineSpec): KeyOption[] {
  const opts: KeyOption[] = spec.restrict ? [{ name: 'restrict', value: null }] : LEGACY_RESTRICTIONS.map((name) => ({ name, value: null }));
  opts.push({ name: 'command', value: spec.command });
  if (spec.from && spec.from.length) {
    for (const f of spec.from) if (!/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(f)) throw new Error(`--from: ${JSON.stringify(f)} is not an IP address or CIDR`);
    opts.push({ name: 'from', value: spec.from.join(',') });
  }
  if (spec.expires !== undefined) opts.push({ name: 'expiry-time', value: formatOpenSshTime(spec.expires) });
  return opts;
}

export function gateLine(key: PublicKey, spec: GateLineSpec): string {
  return formatKeyLine(gateOptions(spec), key);
}

export interface KeyPlan {
  text: string;
  action: 'added' | 'replaced' | 'unchanged';
  /** install had to end the file's last line with a newline before appending. */
  addedTrailingNewline: boolean;
  /** The line (raw, without terminator) written for the key. */
  line: string;
  /** The line(s) it replaced (raw), so uninstall can put them back. */
  replaced: string[];
  /** Index of the gate's line in the new file. */
  index: number;
}

/** Refuse keys sshd will not (or soon will not) accept. */
export function keyProblem(key: PublicKey): string | null {
  if (isDsaType(key.type)) {
    return `${key.type} (DSA) keys are disabled by default since OpenSSH 7.0 and removed in 10.0; generate an ed25519 key: ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519_backup`;
  }
  return null;
}

/**
 * Add the gate's line for `key`, or update the line(s) that already carry
 * this key in place (the first keeps its position, later duplicates are
 * removed: sshd uses the first matching line, so a second one would be dead
 * or, worse, a way around the forced command).
 */
export function planKeyInstall(text: string, key: PublicKey, spec: GateLineSpec): KeyPlan {
  const line = gateLine(key, spec);
  const lines = parseAuthorizedKeys(text);
  const matches = lines.map((l, i) => ({ l, i })).filter(({ l }) => isSameKeyLine(l, key));
  if (matches.length === 0) {
    const out = [...lines];
    // Never glue our line onto a last line that has no newline.
    const last = out[out.length - 1];
    const addedTrailingNewline = last !== undefined && last.eol === '';
    if (last && addedTrailingNewline) out[out.length - 1] = { ...last, eol: '\n' };
    out.push(parseLine(line, '\n'));
    return { text: printAuthorizedKeys(out), action: 'added', addedTrailingNewline, line, replaced: [], index: out.length - 1 };
  }
  const first = matches[0]!;
  if (matches.length === 1 && first.l.raw === line) return { text, action: 'unchanged', addedTrailingNewline: false, line, replaced: [], index: first.i };
  const drop = new Set(matches.slice(1).map((m) => m.i));
  const out: AuthorizedKeysLine[] = [];
  let index = -1;
  lines.forEach((l, i) => {
    if (drop.has(i)) return;
    if (i === first.i) {
      index = out.length;
      out.push(parseLine(line, l.eol === '' ? '' : l.eol));
    } else out.push(l);
  });
  return { text: printAuthorizedKeys(out), action: 'replaced', addedTrailingNewline: false, line, replaced: matches.map((m) => m.l.raw), index };
}

export interface KeyRemoval {
  text: string;
  /** True when the gate's line was found and taken out (or restored). */
  changed: boolean;
}

/**
 * Take the gate's line for `key` out: where install replaced a line, put the
 * first replaced line back in its place; otherwise remove it. Only a line
 * that is still exactly what install wrote is touched.
 */
export function planKeyRemoval(text: string, installedLine: string, replaced: readonly string[], addedTrailingNewline = false): KeyRemoval {
  const lines = parseAuthorizedKeys(text);
  const i = lines.findIndex((l) => l.raw === installedLine);
  if (i === -1) return { text, changed: false };
  const out = [...lines];
  const eol = lines[i]?.eol ?? '\n';
  if (replaced.length > 0) {
    // Later duplicates install dropped come back right after, in order.
    out.splice(i, 1, ...replaced.map((raw, k) => parseLine(raw, k === replaced.length - 1 ? eol : '\n')));
  } else {
    out.splice(i, 1);
    // install added the newline a last line lacked; take it back if our line was last.
    const prev = out[i - 1];
    if (addedTrailingNewline && i === out.length && prev && prev.eol === '\n') out[i - 1] = { ...prev, eol: '' };
  }
  return { text: printAuthorizedKeys(out), changed: true };
}

/**
 * A line that authenticates this key as a plain key. A cert-authority line
 * with the same key is a different thing (sshd uses it only for
 * certificates the key signed), so it is neither replaced nor removed.
 */
function isSameKeyLine(l: AuthorizedKeysLine, key: PublicKey): l is KeyLine {
  return l.kind === 'key' && sameKey(l.key, key) && getOption(l.options, 'cert-authority') === undefined;
}

/** Lines with this key (any options). */
export function findKeyLines(text: string, key: PublicKey): KeyLine[] {
  return parseAuthorizedKeys(text).filter((l): l is KeyLine => isSameKeyLine(l, key));
}

/** Key lines that can log in without a forced command (what forced-commands-only shuts out). */
export function keysWithoutCommand(text: string): KeyLine[] {
  return parseAuthorizedKeys(text).filter((l): l is KeyLine => l.kind === 'key' && getOption(l.options, 'command') === undefined);
}

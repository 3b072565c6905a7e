// How audit shows records to a person: local times, short commands, colour.
import type { AuditRecord } from '../join/transfer.js';
import { isSuccessStatus } from '../join/transfer.js';

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

export type Paint = (style: 'red' | 'green' | 'yellow' | 'magenta' | 'dim' | 'bold', text: string) => string;

const CODES = { red: 31, green: 32, yellow: 33, magenta: 35, dim: 2, bold: 1 } as const;
export const paint = (on: boolean): Paint => (on ? (style, text) => `\x1b[${CODES[style]}m${text}\x1b[0m` : (_style, text) => text);

const pad2 = (n: number) => String(n).padStart(2, '0');

// Control characters (Cc: C0, DEL, C1, terminal escape sequences among
// them), every format character (Cf: bidi controls and isolates, U+061C, the
// soft hyphen U+00AD, U+180E, zero-width ones, the BOM, tag characters),
// line and paragraph separators (Zl, Zp), lone surrogates (Cs), and the
// backslash itself: escaped too, so that a client who types a literal "\x1b"
// is shown as "\\x1b", never as what an escaped ESC looks like.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;

/**
 * Text from the log made safe for a person's terminal. Commands, reasons and
 * names in the log come from clients (a refused command is logged verbatim):
 * printed raw, an ESC sequence in one could rewrite the admin's screen or
 * hide a line, a bidi control could reorder what it shows. Each such
 * character is shown as an escape instead (\x1b, \u{202e}; \\ for "\"), so
 * what is shown maps back to exactly one text.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** `2026-11-26 13:00:05` in the local time zone (TZ). */
export function localTime(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `3d 4h`, `5h 12m`, `40s`: how long ago, for "has not backed up for …". */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** 51384 → `50.2 KiB`. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * The command, shortened for a table: an rsync server call becomes its
 * direction, paths and the options that matter (`pull / -vlogDtprxze.iLsfxCIvu
 * --numeric-ids`); anything else is shown as the client sent it.
 */
export function shortCommand(r: AuditRecord): string {
  return visible(shortCommandText(r));
}

/** shortCommand before escaping, for text that is escaped as a whole (once: a second pass would double each "\\"). */
export function shortCommandText(r: AuditRecord): string {
  return r.command === null ? '(shell)' : shorten(r.command);
}

function shorten(command: string): string {
  // Words as sh splits them (on spaces; the gate refuses tabs and newlines):
  // splitting on \s would turn U+2029, U+FEFF ... into plain spaces, unseen.
  const words = command.split(' ').filter(Boolean);
  if (words.length >= 2 && /(^|\/)rsync$/.test(words[0]!) && words[1] === '--server') {
    const rest = words.slice(2);
    const sender = rest[0] === '--sender';
    const daemon = rest.includes('--daemon');
    const body = rest.slice(sender ? 1 : 0);
    const dot = body.indexOf('.');
    const opts = (dot === -1 ? body : body.slice(0, dot)).filter((w) => w !== '--');
    const paths = dot === -1 ? [] : body.slice(dot + 1);
    const dir = daemon ? 'daemon' : sender ? 'pull' : 'push';
    return [dir, ...paths, ...opts].join(' ');
  }
  return command;
}

export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/** The DECISION column: allow/deny/error, or how the run ended. */
export function decisionLabel(r: AuditRecord): { text: string; style: 'red' | 'green' | 'yellow' | 'magenta' } {
  switch (r.event) {
    case 'allow':
      return r.wouldDeny !== undefined ? { text: 'allow*', style: 'yellow' } : { text: 'allow', style: 'green' };
    case 'deny':
      return { text: 'deny', style: 'red' };
    case 'error':
      return { text: 'error', style: 'magenta' };
    case 'describe':
      return { text: 'describe', style: 'yellow' };
    case 'answer':
      return { text: 'answer', style: 'yellow' };
    case 'grant':
      return { text: 'grant', style: 'yellow' };
    case 'exit': {
      const text = r.signal ? `exit ${r.signal}` : `exit ${r.status ?? '?'}`;
      return { text, style: isSuccessStatus(r.status, r.signal) ? 'green' : 'red' };
    }
  }
}

export const TABLE_HEADER = ['TIME', 'POLICY', 'CLIENT', 'DECISION', 'COMMAND', 'REASON'] as const;
const WIDTHS = { time: 19, host: 16, policy: 12, client: 15, decision: 9 } as const;
const FIXED = WIDTHS.time + WIDTHS.policy + WIDTHS.client + WIDTHS.decision + 5;

/** The command column: room for a typical pull/push line, narrower on a small terminal so the reason stays visible. */
export function commandWidth(columns?: number): number {
  if (columns === undefined) return 48;
  return Math.max(20, Math.min(48, columns - FIXED - 30));
}

function cell(text: string, width: number): string {
  return truncate(text, width).padEnd(width);
}

/**
 * The client family, where the record has it, as a marker before the
 * command: `[openrsync] `. rsync's own lines (the default, nearly every row)
 * stay unmarked, like lines whose shape shows no family; --json carries the
 * field itself either way.
 */
export function familyMarker(r: AuditRecord): string {
  return r.family === 'openrsync' ? '[openrsync] ' : '';
}

/**
 * Who came, where a certificate says: `[cert backup@web-1] ` before the
 * command (the key ID, escaped like all logged text). A plain key's row stays
 * unmarked; --json carries key and cert themselves.
 */
export function certMarker(r: AuditRecord): string {
  return r.cert ? `[cert ${visible(r.cert.keyId)}] ` : '';
}

/** One table row; `columns` is the terminal width, or undefined (no truncation of the reason); a HOST column after TIME when `withHost`. */
export function tableRow(r: AuditRecord, t: number, p: Paint, columns?: number, withHost = false): string {
  const d = decisionLabel(r);
  let command = shortCommand(r);
  let reason = visible(r.event === 'allow' ? (r.wouldDeny !== undefined ? `would deny: ${r.wouldDeny}` : '') : r.reason);
  if (r.event === 'grant' && r.grant) {
    // A grant, not a session: what it allows, for which key, until when.
    command = `push into ${r.grant.path}`;
    reason = visible(`${r.key ?? 'a key'} until ${r.grant.expires}${r.grant.keepOwners ? ', keeping owners' : ''}${r.grant.delete ? ', --delete' : ''}${r.grant.from ? ` from ${r.grant.from.join(',')}` : ''}`);
  } else if (r.event === 'exit' && r.transfer) {
    command = `${certMarker(r)}sent ${bytes(r.transfer.sent)}, received ${bytes(r.transfer.received)}`;
    reason = r.status === 0 ? '' : visible(r.reason);
  } else {
    command = `${certMarker(r)}${familyMarker(r)}${command}`;
  }
  if (r.revoked) reason = `[key revoked now] ${reason}`.trimEnd();
  const fixed = [
    cell(localTime(t), WIDTHS.time),
    ...(withHost ? [cell(visible(r.hostname ?? '-'), WIDTHS.host)] : []),
    cell(visible(r.policy), WIDTHS.policy),
    cell(visible(r.client?.addr ?? '-'), WIDTHS.client),
    p(d.style, cell(d.text, WIDTHS.decision)),
    cell(command, commandWidth(columns)),
  ].join(' ');
  const hostWidth = withHost ? WIDTHS.host + 1 : 0;
  const rest = columns !== undefined ? truncate(reason, Math.max(10, columns - FIXED - hostWidth - commandWidth(columns))) : reason;
  return `${fixed} ${rest}`.trimEnd();
}

export function tableHeader(p: Paint, columns?: number, withHost = false): string {
  const [time, policy, client, decision, command, reason] = TABLE_HEADER;
  return p(
    'bold',
    [cell(time, WIDTHS.time), ...(withHost ? [cell('HOST', WIDTHS.host)] : []), cell(policy, WIDTHS.policy), cell(client, WIDTHS.client), cell(decision, WIDTHS.decision), cell(command, commandWidth(columns)), reason].join(' '),
  );
}

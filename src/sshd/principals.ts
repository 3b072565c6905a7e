// AuthorizedPrincipalsFile and TrustedUserCAKeys: one parser and one printer
// each (install writes them, doctor reads them).
//
// A principals line is `[options] PRINCIPAL`: sshd (auth2-pubkeyfile.c,
// auth_check_principals_line) takes the text after the last space or tab as
// the principal and everything before it as an options field with exactly
// authorized_keys' syntax (auth-options.c), command= included. So the options
// parser is authorized-keys.ts's own, and a principal can hold no blank.
// A TrustedUserCAKeys file is one public key per line, no options (sshd reads
// it with sshkey_in_file).
import { parseOptions, printOptions, splitLines, type KeyOption } from './authorized-keys.js';

/**
 * Principal names install writes: what `ssh-keygen -n` can put in a
 * certificate (it splits on commas) and the file can carry (no blank, no
 * leading `#`), kept to a conservative set.
 */
export const PRINCIPAL_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+=:-]{0,127}$/;

export type PrincipalsLine =
  | { kind: 'blank' | 'comment'; raw: string; eol: string }
  | { kind: 'invalid'; raw: string; eol: string; error: string }
  | { kind: 'principal'; raw: string; eol: string; options: KeyOption[]; name: string };

const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

export function parsePrincipalsLine(raw: string, eol = ''): PrincipalsLine {
  let i = 0;
  while (isSpace(raw[i])) i++;
  const s = raw.slice(i).replace(/\r$/, '');
  if (s === '') return { kind: 'blank', raw, eol };
  if (s.startsWith('#')) return { kind: 'comment', raw, eol };
  const cut = Math.max(s.lastIndexOf(' '), s.lastIndexOf('\t'));
  if (cut === -1) return { kind: 'principal', raw, eol, options: [], name: s };
  let end = cut;
  while (end > 0 && isSpace(s[end - 1])) end--;
  const name = s.slice(cut + 1);
  if (name === '') return { kind: 'invalid', raw, eol, error: 'no principal after the options' };
  const parsed = parseOptions(s.slice(0, end));
  if ('error' in parsed) return { kind: 'invalid', raw, eol, error: parsed.error };
  if (parsed.rest !== '') return { kind: 'invalid', raw, eol, error: `a blank inside the options field (${JSON.stringify(parsed.rest.trim())})` };
  return { kind: 'principal', raw, eol, options: parsed.options, name };
}

export function parsePrincipals(text: string): PrincipalsLine[] {
  return splitLines(text).map(({ raw, eol }) => parsePrincipalsLine(raw, eol));
}

export const printPrincipals = (lines: readonly PrincipalsLine[]): string => lines.map((l) => l.raw + l.eol).join('');

/** A principals line (raw, no terminator); refuses a name sshd would read differently. */
export function formatPrincipalLine(options: readonly KeyOption[], name: string): string {
  if (!PRINCIPAL_NAME.test(name)) throw new Error(`principal ${JSON.stringify(name)}: use letters, digits and ._@+=:- only (no blank, no comma), at most 128 characters`);
  return options.length ? `${printOptions(options)} ${name}` : name;
}

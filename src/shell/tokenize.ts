// Split SSH_ORIGINAL_COMMAND into words the way /bin/sh would with globbing
// off, and refuse every string in which sh would see more than literal words:
// POSIX sh (dash) or bash, root's login shell on Debian and RHEL (brace
// expansion, and a tilde after "=" or ":", are bash's alone).
//
// Why so strict: sshd hands us the client's command as one string. The client
// (rsync) built it for a shell, escaping what it wants literal. We never run a
// shell, so anything a shell would *do* (expand, redirect, chain, substitute)
// is something we cannot reproduce faithfully — and guessing is how forced
// commands get bypassed. We accept only quoting and backslash escapes, which
// have exactly one meaning, and refuse the rest with a reason.
//
// Two independent readings must agree: our own scanner below, and
// shell-quote's parser. Any disagreement is refused (fail closed), so a bug in
// either one cannot widen what is accepted.
import { parse as shellQuoteParse } from 'shell-quote';

export type TokenizeResult =
  | { ok: true; words: string[] }
  | { ok: false; code: 'shell-syntax'; reason: string };

const fail = (reason: string): TokenizeResult => ({ ok: false, code: 'shell-syntax', reason });

// Characters that end a word or start an operator when unquoted in sh.
const OPERATORS = new Set([';', '&', '|', '<', '>', '(', ')']);
// Unicode spaces and look-alikes sh treats as ordinary bytes: refused so that
// "what the admin reads in the log" and "what runs" cannot differ invisibly.
const SUSPICIOUS = /[\u0085\u00a0\u1680\u180e\u2000-\u200f\u2028\u2029\u202a-\u202e\u205f\u2060\u2066-\u2069\u3000\ufeff\ufffd]/u;
// C0 controls (tab, newline and CR included) and DEL.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The scanner: a minimal POSIX sh word splitter that knows only quoting. */
function scan(input: string): TokenizeResult {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i]!;
    if (c === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    const atWordStart = !inWord;
    inWord = true;
    if (c === '\\') {
      if (i + 1 >= n) return fail('a trailing backslash escapes nothing');
      word += input[i + 1];
      i += 2;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) return fail('unbalanced single quote');
      word += input.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = input[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\') {
          // Inside double quotes a backslash escapes only $ ` " \ (and newline).
          const e = input[i + 1];
          if (e === undefined) return fail('unbalanced double quote');
          if (e === '$' || e === '`' || e === '"' || e === '\\') {
            word += e;
            i += 2;
          } else {
            word += '\\';
            i++;
          }
          continue;
        }
        if (d === '$') return fail('"$" inside double quotes is a shell expansion; escape it as \\$');
        if (d === '`') return fail('a backquote is command substitution');
        word += d;
        i++;
      }
      if (!closed) return fail('unbalanced double quote');
    } else if (OPERATORS.has(c)) {
      return fail(`"${c}" is a shell operator (command chaining, pipes, redirections and subshells are refused)`);
    } else if (c === '$') {
      return fail('"$" starts a shell expansion (variables and $(...) are refused); a literal $ must be escaped as \\$');
    } else if (c === '`') {
      return fail('a backquote is command substitution');
    } else if (c === '#' && atWordStart) {
      return fail('"#" at the start of a word starts a shell comment');
    } else if (c === '~' && atWordStart) {
      return fail('"~" at the start of a word is tilde expansion; name the path relative to the policy root instead');
    } else if (c === '~' && (input[i - 1] === '=' || input[i - 1] === ':')) {
      // bash (root's shell on Debian and RHEL) expands a tilde after "=" and
      // ":" in a word shaped like an assignment (a=~/x); dash does not. Refused
      // wherever it follows "=" or ":", which is wider than bash's rule.
      return fail('"~" after "=" or ":" is tilde expansion in bash; escape it as \\~');
    } else if (c === '{') {
      // Brace expansion ({a,b}, {1..3}) is bash's, not POSIX sh's; set -f does
      // not turn it off. rsync escapes "{" in the names it sends.
      return fail('an unquoted "{" is brace expansion in bash ({a,b}, {1..3}); escape it as \\{');
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

type ShellQuoteEntry = ReturnType<typeof shellQuoteParse>[number];

/** shell-quote's reading, reduced to plain words; null when it saw more. */
function shellQuoteWords(input: string): string[] | null {
  let entries: ShellQuoteEntry[];
  try {
    // An env function that throws: shell-quote must never substitute anything.
    entries = shellQuoteParse(input, (name: string) => {
      throw new Error(`expansion of ${name}`);
    });
  } catch {
    return null;
  }
  const words: string[] = [];
  for (const e of entries) {
    if (typeof e === 'string') words.push(e);
    // shell-quote reports unquoted glob characters as {op:'glob'}; with
    // globbing off, sh passes the pattern through as a word.
    else if (typeof e === 'object' && e !== null && 'op' in e && e.op === 'glob') words.push(e.pattern);
    else return null;
  }
  return words;
}

// Words of only these characters mean themselves to sh and to shell-quote
// alike (no quote, escape, operator, expansion, glob, comment or tilde), so a
// command made of such words and single spaces has one reading: its split on
// " ". That is nearly every real client command; the scanner and the
// cross-check run for the rest. (A property test holds the three equal.)
const MAX_LENGTH = 65536;
const PLAIN_WORDS = /^[A-Za-z0-9_@%+=:,./-]+(?: [A-Za-z0-9_@%+=:,./-]+)*$/;

export function tokenize(input: string): TokenizeResult {
  if (input.length <= MAX_LENGTH && PLAIN_WORDS.test(input)) return { ok: true, words: input.split(' ') };
  return tokenizeQuoted(input);
}

/** The full path: the checks, the scanner, and shell-quote's reading, which must agree. */
export function tokenizeQuoted(input: string): TokenizeResult {
  if (input.length === 0) return fail('the command is empty');
  if (input.length > MAX_LENGTH) return fail('the command is longer than 64 KiB');
  if (CONTROL.test(input)) return fail('control characters (newline, CR, tab, NUL, ESC ...) are refused');
  if (SUSPICIOUS.test(input)) {
    return fail('invisible or look-alike Unicode characters (non-breaking spaces, bidi controls, U+FFFD from invalid UTF-8) are refused');
  }
  const ours = scan(input);
  if (!ours.ok) return ours;
  const theirs = shellQuoteWords(input);
  if (theirs === null || theirs.length !== ours.words.length || theirs.some((w, k) => w !== ours.words[k])) {
    return fail('the quoting is ambiguous (two shell parsers disagree on the words); refusing rather than guessing');
  }
  return ours;
}

/** Quote words so that sh (and tokenize) read them back unchanged. */
export function quoteWords(words: readonly string[]): string {
  return words.map(quoteWord).join(' ');
}

function quoteWord(w: string): string {
  if (w !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

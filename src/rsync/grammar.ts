// The grammar of an rsync server invocation, as a client sends it:
//
//   rsync --server [--sender] <options> . <paths...>
//   rsync --server --daemon .
//
// parseServerArgs turns words into a description or says precisely why the
// words are not one. It knows the syntax only; what a policy allows is
// decided in decide.ts.
import { LONG_OPTIONS, longOption, shortOption, type RsyncOption } from './options.js';

export interface ParsedOption {
  spec: RsyncOption;
  /** The value for options that take one. */
  value?: string;
  /** The words as the client sent them. */
  words: string[];
}

export type ParsedCommand =
  | { kind: 'true' }
  | { kind: 'daemon'; program: string }
  | {
      kind: 'server';
      program: string;
      sender: boolean;
      /** Short-option clusters, validated, in the client's order (e.g. "-vlogDtprxze.iLsfxCIvu"). */
      clusters: string[];
      /** Every option, one entry per short letter or long option. */
      options: ParsedOption[];
      /** The capability string after "e", e.g. ".iLsfxCIvu" (absent with --protocol=29). */
      capabilities: string | null;
      paths: string[];
      /** Which client family sent the line, where its shape shows it (see clientFamily). */
      family?: ClientFamily;
    };

/** rsync (rsync.samba.org's and Apple's 2.6.9) or Apple's openrsync. */
export type ClientFamily = 'rsync' | 'openrsync';

export type ParseError = { code: ParseErrorCode; reason: string; option?: string };
export type ParseErrorCode = 'not-rsync' | 'not-server' | 'syntax' | 'unknown-option' | 'always-refused';
export type ParseResult = { ok: true; command: ParsedCommand } | ({ ok: false } & ParseError);

const err = (code: ParseErrorCode, reason: string, option?: string): ParseResult =>
  option === undefined ? { ok: false, code, reason } : { ok: false, code, reason, option };

// "e" then an optional protocol[.subprotocol] and the capability letters.
const CAPABILITIES = /^e(\d+(\.\d+)?)?\.[A-Za-z]*$|^e\d+\.\d+[A-Za-z]*$/;
const NUMBER = /^-?\d{1,12}$/;

/** True for the client's first word: "rsync" or an absolute path ending in "/rsync". */
export function isRsyncProgram(word: string): boolean {
  return word === 'rsync' || /^\/[^\0]*\/rsync$/.test(word);
}

export function parseServerArgs(words: readonly string[]): ParseResult {
  if (words.length === 1 && words[0] === 'true') return { ok: true, command: { kind: 'true' } };
  const program = words[0];
  if (program === undefined || !isRsyncProgram(program)) {
    return err('not-rsync', `only rsync server calls are allowed here, not "${program ?? ''}" (this key is for rsync backups)`);
  }
  if (words[1] !== '--server') {
    return err('not-server', '"--server" must be the second word: this looks like a client-side rsync call, not what an rsync client sends to its server');
  }
  if (words[2] === '--daemon') {
    if (words.length === 4 && words[3] === '.') return { ok: true, command: { kind: 'daemon', program } };
    const extra = words.slice(3).find((w) => w !== '.');
    if (extra?.startsWith('--config')) return err('always-refused', 'option --config is refused: a client must not choose the daemon configuration (a daemon policy sets it)', '--config');
    return err('syntax', 'a daemon-over-ssh call is exactly "rsync --server --daemon ." (options go in the daemon protocol, not the command line)', extra);
  }
  const sender = words[2] === '--sender';
  const options: ParsedOption[] = [];
  const clusters: string[] = [];
  let capabilities: string | null = null;
  let i = sender ? 3 : 2;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '.') break;
    if (w.startsWith('--')) {
      const r = parseLong(words, i, options);
      if (typeof r !== 'number') return r;
      i = r;
    } else if (w.startsWith('-') && w.length > 1) {
      const r = parseCluster(w, options);
      if (!r.ok) return r;
      if (r.capabilities !== null) {
        if (capabilities !== null) return err('syntax', 'the capability string (-e.xxx) was sent twice');
        capabilities = r.capabilities;
      }
      clusters.push(w);
    } else {
      return err('syntax', `"${w}" before the "." separator is not an option: rsync server calls are "rsync --server [--sender] OPTIONS . PATHS"`);
    }
  }
  if (i >= words.length) return err('syntax', 'the "." separator between options and paths is missing');
  const paths = words.slice(i + 1);
  for (const p of paths) {
    // A real client escapes a leading dash as "./-name"; a word starting with
    // "-" here is an option smuggled after the separator, which rsync would
    // still parse as an option.
    if (p.startsWith('-')) return err('syntax', `options after the "." separator are refused ("${p}")`, p.split('=')[0]);
    if (p === '') return err('syntax', 'an empty path argument is refused');
  }
  const family = clientFamily(clusters);
  const command: ParsedCommand = { kind: 'server', program, sender, clusters, options, capabilities, paths };
  if (family) command.family = family;
  return { ok: true, command };
}

/**
 * The client family from the shape of its short options (test/clients/corpus.json
 * holds what each client sends): rsync clusters them into one word
 * (-vlogDtpre.iLsfxCIvu, -lHogDtpr); openrsync sends each as a word of its own
 * (-g -l -o -p -D -r -t). One lone letter, or none, shows neither.
 * openrsync's one longer word is its block size (-B2048, a word of its own in
 * every client), so -B words are not counted; -@N (modify window) is sent by
 * rsync alone (openrsync spells it --modify-window=N) and counts as rsync's.
 * test/rsync/client-family.test.ts pins this on recorded lines.
 */
export function clientFamily(clusters: readonly string[]): ClientFamily | undefined {
  const letters = clusters.filter((w) => !w.startsWith('-B'));
  if (letters.some((w) => w.length > 2)) return 'rsync';
  if (letters.length >= 2) return 'openrsync';
  return undefined;
}

function parseLong(words: readonly string[], i: number, out: ParsedOption[]): number | ParseResult {
  const w = words[i]!;
  if (w === '--') return err('syntax', '"--" is not allowed before the "." separator');
  const eq = w.indexOf('=');
  const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
  const spec = longOption(name);
  if (!spec) {
    return err('unknown-option', `option --${name} is not one an rsync client sends to a server (rsync accepts no abbreviations, and option names are case-sensitive)`, `--${name}`);
  }
  if (name === 'server' || name === 'sender') {
    return err('syntax', name === 'server' ? '"--server" may appear only as the second word' : '"--sender" may appear only directly after "--server"', `--${name}`);
  }
  if (spec.risk === 'refused') return refused(spec);
  if (spec.arg === 'none') {
    if (eq >= 0) return err('syntax', `option --${name} takes no value`, spec.name);
    out.push({ spec, words: [w] });
    return i;
  }
  let value: string;
  let used: string[];
  if (eq >= 0) {
    value = w.slice(eq + 1);
    used = [w];
  } else {
    const next = words[i + 1];
    if (next === undefined || next === '.') return err('syntax', `option --${name} needs a value`, spec.name);
    value = next;
    used = [w, next];
    i++;
  }
  if (spec.arg === 'number' && !NUMBER.test(value)) return err('syntax', `option --${name} takes a number, not "${value}"`, spec.name);
  out.push({ spec, value, words: used });
  return i;
}

function parseCluster(w: string, out: ParsedOption[]): { ok: true; capabilities: string | null } | ({ ok: false } & ParseError) {
  // A numeric short option stands alone with its digits: -B8192, -@-1.
  const numeric = /^-([B@])(.*)$/.exec(w);
  if (numeric) {
    const spec = shortOption(numeric[1]!)!;
    if (!NUMBER.test(numeric[2]!)) return { ok: false, code: 'syntax', reason: `-${numeric[1]} takes a number written right after it (e.g. -B8192), not "${numeric[2]}"`, option: spec.name };
    out.push({ spec, value: numeric[2]!, words: [w] });
    return { ok: true, capabilities: null };
  }
  for (let k = 1; k < w.length; k++) {
    const letter = w[k]!;
    if (letter === 'e') {
      const rest = w.slice(k);
      if (!CAPABILITIES.test(rest)) {
        return {
          ok: false,
          code: 'always-refused',
          reason: `-e is refused here: after "e" only rsync's capability string may follow (like "e.iLsfxCIvu"), and "${rest}" is not one; -e names a remote shell on the client side`,
          option: '--rsh',
        };
      }
      return { ok: true, capabilities: rest.slice(1) };
    }
    const spec = shortOption(letter);
    if (!spec) {
      // A letter known only as a long option's short form (-M, -e) is one the table refuses.
      const twin = LONG_OPTIONS.find((x) => x.short === letter);
      if (twin?.risk === 'refused') return refused(twin, `-${letter}`);
      return { ok: false, code: 'unknown-option', reason: `option -${letter} (in "${w}") is not one an rsync client sends to a server`, option: `-${letter}` };
    }
    if (spec.arg !== 'none') {
      return { ok: false, code: 'syntax', reason: `-${letter} takes a number and must stand alone with it (e.g. -${letter}8192), not inside "${w}"`, option: spec.name };
    }
    if (spec.risk === 'refused') return refused(spec);
    out.push({ spec, words: [w] });
  }
  return { ok: true, capabilities: null };
}

function refused(spec: RsyncOption, spelled = spec.name): { ok: false } & ParseError {
  return { ok: false, code: 'always-refused', reason: `option ${spelled} is always refused: ${spec.why}`, option: spec.name };
}

// Certificates on the server, as pure functions of the files' text: the CA
// file gatekeeper owns (sshd's TrustedUserCAKeys, one CA per line) and a
// user's principals file (AuthorizedPrincipalsFile, one
// `restrict,command="… gate --policy P"[,from="…"] NAME` line per principal).
// Every other line keeps its bytes; a principal's line is replaced in place,
// never duplicated (sshd takes the first line that names the principal).
import { formatKeyLine, isDsaType, parseAuthorizedKeys, printAuthorizedKeys, sameKey, splitLines, type PublicKey } from '../sshd/authorized-keys.js';
import { formatPrincipalLine, parsePrincipals, parsePrincipalsLine, printPrincipals } from '../sshd/principals.js';
import { gateOptions, type GateLineSpec } from './keys.js';

export { CA_DEFAULTS } from './ca-defaults.js';

/** The AuthorizedPrincipalsFile value for a principals directory (`%u`: one file per user). */
export const principalsPattern = (dir: string): string => `${dir.replace(/\/+$/, '')}/%u`;
export const principalsFile = (dir: string, user: string): string => `${dir.replace(/\/+$/, '')}/${user}`;

/**
 * A CA public key file as `--ca` takes it: exactly one plain public key, no
 * options. A certificate (the CA's own key is never one), a private key or
 * anything else is refused. `ssh-keygen -l` is asked as well (install.ts).
 */
export function parseCaKey(text: string): PublicKey | { error: string } {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return { error: 'this is a private key; give the CA\'s public key (CA.pub)' };
  const lines = parseAuthorizedKeys(text).filter((l) => l.kind !== 'blank' && l.kind !== 'comment');
  if (lines.length === 0) return { error: 'no public key found' };
  if (lines.length > 1) return { error: `${lines.length} lines; one CA per file (install --ca once per CA)` };
  const l = lines[0]!;
  if (l.kind === 'invalid') return { error: l.error };
  if (l.kind !== 'key') return { error: 'no public key found' };
  if (l.options.length) return { error: 'options before the key; a CA file holds the bare public key' };
  if (l.key.type.includes('-cert-v01@')) return { error: `${l.key.type} is a certificate, not a CA's public key` };
  if (isDsaType(l.key.type)) return { error: 'DSA keys are disabled by default since OpenSSH 7.0 and removed in 10.0' };
  return l.key;
}

export interface CaFilePlan {
  text: string;
  action: 'added' | 'unchanged';
  /** The line written for the CA (raw). */
  line: string;
}

/** Add the CA to the file unless it is there already (any comment). */
export function planCaAdd(text: string, ca: PublicKey): CaFilePlan {
  const line = formatKeyLine([], ca);
  const lines = parseAuthorizedKeys(text);
  if (lines.some((l) => l.kind === 'key' && sameKey(l.key, ca))) return { text, action: 'unchanged', line };
  const out = splitLines(text);
  const last = out[out.length - 1];
  if (last && last.eol === '') out[out.length - 1] = { ...last, eol: '\n' };
  out.push({ raw: line, eol: '\n' });
  return { text: out.map((l) => l.raw + l.eol).join(''), action: 'added', line };
}

/** Take every line of this CA out. */
export function planCaRemove(text: string, ca: PublicKey): { text: string; changed: boolean } {
  const lines = parseAuthorizedKeys(text);
  const kept = lines.filter((l) => !(l.kind === 'key' && sameKey(l.key, ca)));
  return { text: printAuthorizedKeys(kept), changed: kept.length !== lines.length };
}

/** The CAs a CA file holds. */
export const casIn = (text: string): PublicKey[] => parseAuthorizedKeys(text).flatMap((l) => (l.kind === 'key' ? [l.key] : []));

export interface PrincipalPlan {
  text: string;
  action: 'added' | 'replaced' | 'unchanged';
  line: string;
  /** The line it replaced (raw), for uninstall. */
  replaced: string | null;
}

export function principalLine(name: string, spec: GateLineSpec): string {
  return formatPrincipalLine(gateOptions(spec), name);
}

/** Add or replace (in place; later lines for the same principal go) the principal's line. */
export function planPrincipalInstall(text: string, name: string, spec: GateLineSpec): PrincipalPlan {
  const line = principalLine(name, spec);
  const lines = parsePrincipals(text);
  const hits = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.kind === 'principal' && l.name === name);
  if (hits.length === 1 && hits[0]!.l.raw === line) return { text, action: 'unchanged', line, replaced: null };
  if (hits.length === 0) {
    const out = [...lines];
    const last = out[out.length - 1];
    if (last && last.eol === '') out[out.length - 1] = { ...last, eol: '\n' };
    out.push(parsePrincipalsLine(line, '\n'));
    return { text: printPrincipals(out), action: 'added', line, replaced: null };
  }
  const first = hits[0]!;
  const drop = new Set(hits.slice(1).map((h) => h.i));
  const out = lines.flatMap((l, i) => (drop.has(i) ? [] : i === first.i ? [parsePrincipalsLine(line, l.eol)] : [l]));
  return { text: printPrincipals(out), action: 'replaced', line, replaced: first.l.raw };
}

/** Take out the line install wrote (exactly), putting back the one it replaced. */
export function planPrincipalRemoval(text: string, installed: string, replaced: string | null): { text: string; changed: boolean } {
  const lines = parsePrincipals(text);
  const i = lines.findIndex((l) => l.raw === installed);
  if (i === -1) return { text, changed: false };
  const out = [...lines];
  if (replaced !== null) out.splice(i, 1, parsePrincipalsLine(replaced, lines[i]!.eol));
  else out.splice(i, 1);
  return { text: printPrincipals(out), changed: true };
}

/** The principals a principals file names. */
export const principalsIn = (text: string): string[] => parsePrincipals(text).flatMap((l) => (l.kind === 'principal' ? [l.name] : []));

/** ssh-keygen, asked whether a --ca file is a public key (ssh-keygen -l -f). */
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

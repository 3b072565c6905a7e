// `gatekeeper revoke`: add a key, or a certificate by serial or key ID, to
// sshd's RevokedKeys list (a KRL), so that sshd refuses it from the next
// session on, on every server that reads the list, without touching any key
// file. The binary format is never edited here: ssh-keygen -k -u does it, on
// a copy in a private directory; the copy is checked (ssh-keygen -Q for a
// key, -Q -l for a serial or key ID), and only then replaces the list, by an
// atomic rename. A failure at any step leaves the old list as it was.
// Revoking what is revoked already changes nothing (idempotent).
import { closeSync, constants, lstatSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { EX_CONFIG, EX_NOPERM, EX_SOFTWARE, EX_USAGE, GatekeeperError } from '../exit.js';
import { readState, statePath } from '../install/state.js';
import { trustProblem } from '../policy/trust.js';
import { fingerprint, parsePublicKey, type PublicKey } from '../sshd/authorized-keys.js';
import { certRevoked, isKrl, listKrl, queryKrl, updateKrl, type KrlListing } from '../sshd/krl.js';
import { effectiveValue, sshdEffective } from '../sshd/run.js';

export const REVOKE_VERSION = 1;

export interface RevokeOptions {
  /** A public key or certificate file, or '-' for stdin. */
  key?: string;
  serial?: string;
  keyId?: string;
  /** The CA's public key file (with --serial, --key-id). */
  ca?: string;
  /** The list; default: the one install --revoked-keys recorded. */
  revokedKeys?: string;
  configDir: string;
  sshdConfig: string;
  sshd: string;
  dryRun: boolean;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
  readStdin?: () => Promise<string>;
}

/** What is revoked, as --json reports it. */
export type Revoked =
  | { kind: 'key'; fingerprint: string; type: string; comment: string }
  | { kind: 'serial'; serial: string; ca: string }
  | { kind: 'key-id'; keyId: string; ca: string };

export interface RevokeReport {
  version: typeof REVOKE_VERSION;
  command: 'revoke';
  dryRun: boolean;
  /** true when the list was (or, with --dry-run, would be) changed; false when it revoked this already. */
  changed: boolean;
  file: string;
  revoked: Revoked;
}

const usage = (m: string) => new GatekeeperError(m, EX_USAGE, 'usage');
const config = (m: string) => new GatekeeperError(m, EX_CONFIG, 'config');

const U64_MAX = (1n << 64n) - 1n;

/** A serial ssh-keygen can revoke: a decimal 1 … 2^64-1 (serial 0 means "no serial": revoke such a certificate by key ID or by key). */
export function parseSerial(text: string): bigint | { error: string } {
  if (!/^\d+$/.test(text)) return { error: `--serial ${text}: a certificate serial is a decimal number` };
  const n = BigInt(text);
  if (n === 0n) return { error: '--serial 0: a certificate without a serial (0) cannot be revoked by serial; revoke it by --key-id or --key CERT' };
  if (n > U64_MAX) return { error: `--serial ${text}: larger than a certificate serial can be (2^64-1)` };
  return n;
}

/**
 * A key ID a KRL specification line can carry exactly: ssh-keygen cuts the
 * line at `#` and trims blanks around the value, so those cannot be written.
 */
export function keyIdProblem(id: string): string | null {
  if (id === '') return '--key-id: empty';
  if (/[\n\r\0#]/.test(id)) return `--key-id ${JSON.stringify(id)}: a key ID with a newline, NUL or # cannot be written in a KRL specification; revoke the certificate with --key CERT instead`;
  if (id.trim() !== id || /^[ \t]|[ \t]$/.test(id)) return `--key-id ${JSON.stringify(id)}: ssh-keygen drops leading and trailing blanks; revoke the certificate with --key CERT instead`;
  return null;
}

function readKeyFile(what: string, path: string, text: string): PublicKey {
  const k = parsePublicKey(text);
  if ('error' in k) throw usage(`${what} ${path}: not an OpenSSH public key (${k.error})`);
  return k;
}

async function readInput(what: string, path: string, o: RevokeOptions): Promise<string> {
  if (path === '-') {
    if (!o.readStdin) throw usage(`${what} -: no standard input`);
    return o.readStdin();
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw usage(`${what} ${path}: ${(e as Error).message}`);
  }
}

/** The list to change, checked: a regular file, a root-only chain, a KRL. */
function checkList(file: string): void {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    throw config(`${file} does not exist: create and configure the list with gatekeeper install --revoked-keys ${file}`);
  }
  if (st.isSymbolicLink() || !st.isFile()) throw config(`${file} is not a regular file (a symlink is not followed)`);
  const problem = trustProblem(file);
  if (problem) throw config(`refusing ${file}: ${problem}`);
  if (!isKrl(readFileSync(file))) {
    throw config(`${file} is a plain list of keys, not a KRL: ssh-keygen -k -u cannot add to it. Convert it once (ssh-keygen -k -f ${file}.krl ${file}) and use the KRL (install --revoked-keys ${file}.krl)`);
  }
}

/** A lock beside the list (its directory is root's alone): two revokes at once would lose one. */
function lockList(file: string): () => void {
  const path = join(dirname(file), `.${basename(file)}.gatekeeper-lock`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const holder = Number(readFileSync(path, 'utf8').trim());
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = Number.isInteger(holder) && holder > 0;
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (alive) throw config(`another gatekeeper revoke is changing ${file} (pid ${holder}, lock ${path})`);
    unlinkSync(path);
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  }
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  return () => rmSync(path, { force: true });
}

/** Is it revoked in this list? A key (or certificate) through ssh-keygen -Q; a serial or key ID in the -Q -l listing. */
async function revokedIn(file: string, what: Revoked, key: PublicKey | null): Promise<boolean> {
  if (what.kind === 'key') return (await queryKrl(file, [key!]))[0]!;
  const listing: KrlListing = await listKrl(file);
  if (what.kind === 'serial') return listing.certs.some((s) => s.ca === what.ca && s.serials.some(([lo, hi]) => lo <= BigInt(what.serial) && BigInt(what.serial) <= hi));
  return certRevoked({ ...listing, certs: listing.certs.filter((s) => s.ca === what.ca) }, { ca: what.ca, serial: 0, keyId: what.keyId });
}

const describeRevoked = (r: Revoked): string =>
  r.kind === 'key' ? `key ${r.type} ${r.fingerprint}${r.comment ? ` ${r.comment}` : ''}` : r.kind === 'serial' ? `serial ${r.serial} of CA ${r.ca}` : `key ID ${JSON.stringify(r.keyId)} of CA ${r.ca}`;

export async function revoke(o: RevokeOptions): Promise<number> {
  const given = [o.key !== undefined && '--key', o.serial !== undefined && '--serial', o.keyId !== undefined && '--key-id'].filter(Boolean);
  if (given.length !== 1) throw usage('revoke needs one of --key FILE, --serial N --ca CA.pub, --key-id ID --ca CA.pub');
  if (o.key !== undefined && o.ca !== undefined) throw usage('--ca goes with --serial or --key-id; a certificate given to --key names its CA itself');
  if (o.key === undefined && o.ca === undefined) throw usage(`${given[0]} needs --ca CA.pub, the public key of the CA that signed the certificate`);
  for (const [n, p] of [['--revoked-keys', o.revokedKeys], ['--config-dir', o.configDir], ['--sshd-config', o.sshdConfig], ['--sshd', o.sshd]] as const) {
    if (p !== undefined && !p.startsWith('/')) throw usage(`${n} must be an absolute path: ${p}`);
  }

  // What to revoke, parsed before anything else is looked at.
  let key: PublicKey | null = null;
  let ca: PublicKey | null = null;
  let what: Revoked;
  let spec: string | null = null;
  if (o.key !== undefined) {
    key = readKeyFile('--key', o.key, await readInput('--key', o.key, o));
    what = { kind: 'key', fingerprint: fingerprint(key), type: key.type, comment: key.comment };
  } else {
    ca = readKeyFile('--ca', o.ca!, await readInput('--ca', o.ca!, o));
    if (ca.type.includes('-cert-')) throw usage(`--ca ${o.ca}: a certificate, not a CA's public key`);
    const caName = `${ca.type} ${fingerprint(ca)}`;
    if (o.serial !== undefined) {
      const n = parseSerial(o.serial);
      if (typeof n !== 'bigint') throw usage(n.error);
      what = { kind: 'serial', serial: n.toString(), ca: caName };
      spec = `serial: ${n}\n`;
    } else {
      const problem = keyIdProblem(o.keyId!);
      if (problem) throw usage(problem);
      what = { kind: 'key-id', keyId: o.keyId!, ca: caName };
      spec = `id: ${o.keyId}\n`;
    }
  }

  // Which list.
  let file = o.revokedKeys;
  if (file === undefined) {
    let recorded: string | undefined;
    try {
      recorded = readState(o.configDir).revokedKeys?.file;
    } catch (e) {
      throw config(`${statePath(o.configDir)}: ${(e as Error).message}`);
    }
    if (recorded === undefined) throw config(`no RevokedKeys list recorded in ${statePath(o.configDir)}: name it with --revoked-keys FILE, or configure one with gatekeeper install --revoked-keys FILE`);
    file = recorded;
  }
  if (!o.dryRun && process.getuid?.() !== 0) throw new GatekeeperError('revoke must run as root (or use --dry-run)', EX_NOPERM, 'not-root');
  checkList(file);

  const release = o.dryRun ? () => {} : lockList(file);
  const dir = mkdtempSync(join(tmpdir(), 'gatekeeper-revoke-'));
  let changed: boolean;
  try {
    const before = readFileSync(file);
    const st = lstatSync(file);
    const copy = join(dir, 'krl');
    writeFileSync(copy, before, { mode: 0o600 });
    changed = !(await revokedIn(copy, what, key).catch((e: Error) => {
      throw config(`ssh-keygen cannot read ${file} (${e.message.replace(copy, file)}); nothing was changed`);
    }));
    if (changed) {
      // ssh-keygen reads only files of ours: the key (or the specification and the CA) as parsed above.
      const inputs: string[] = [];
      let caFile: string | undefined;
      if (key) {
        inputs.push(join(dir, 'key.pub'));
        writeFileSync(inputs[0]!, `${key.type} ${key.blob}${key.comment ? ` ${key.comment}` : ''}\n`, { mode: 0o600 });
      } else {
        caFile = join(dir, 'ca.pub');
        writeFileSync(caFile, `${ca!.type} ${ca!.blob}\n`, { mode: 0o600 });
        inputs.push(join(dir, 'spec'));
        writeFileSync(inputs[0]!, spec!, { mode: 0o600 });
      }
      await updateKrl(copy, inputs, caFile).catch((e: Error) => {
        throw new GatekeeperError(`${e.message}; ${file} was not changed`, EX_SOFTWARE, 'ssh-keygen');
      });
      if (!(await revokedIn(copy, what, key))) throw new GatekeeperError(`ssh-keygen -k -u ran, but the new list does not revoke the ${describeRevoked(what)}; ${file} was not changed`, EX_SOFTWARE, 'ssh-keygen');
      if (!o.dryRun) {
        if (!readFileSync(file).equals(before)) throw config(`${file} changed while revoke ran; nothing was written, run it again`);
        writeFileAtomic(file, readFileSync(copy), st.mode & 0o7777);
        // The list as sshd will read it: revoked now.
        if (!(await revokedIn(file, what, key))) throw new GatekeeperError(`${file} was replaced but ssh-keygen -Q does not find the ${describeRevoked(what)} revoked in it`, EX_SOFTWARE, 'ssh-keygen');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    release();
  }

  // Does sshd read this list? A revocation in a list sshd does not read stops nothing.
  const eff = await sshdEffective(o.sshd, o.sshdConfig);
  const reads = 'error' in eff ? null : effectiveValue(eff, 'revokedkeys');
  const say = o.json ? o.err : o.out;
  const desc = describeRevoked(what);
  if (!changed) say(`${file} revokes the ${desc} already; nothing was changed\n`);
  else if (o.dryRun) say(`gatekeeper revoke --dry-run: would add the ${desc} to ${file} (ssh-keygen -k -u); nothing was changed\n`);
  else say(`revoked the ${desc} in ${file}: sshd refuses it from the next session on (sessions already open go on)\n`);
  if (reads === null) o.err(`gatekeeper: warning: could not ask sshd whether it reads ${file} (sshd -T -f ${o.sshdConfig}: ${'error' in eff ? eff.error : ''})\n`);
  else if (reads !== file) o.err(`gatekeeper: warning: sshd reads RevokedKeys ${reads}, not ${file}: the revocation has no effect here until sshd reads this list (gatekeeper install --revoked-keys ${file})\n`);
  if (o.json) {
    const report: RevokeReport = { version: REVOKE_VERSION, command: 'revoke', dryRun: o.dryRun, changed, file, revoked: what };
    o.out(`${JSON.stringify(report)}\n`);
  }
  return 0;
}


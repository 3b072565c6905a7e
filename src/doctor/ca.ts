// The doctor's certificate checks: what `install --ca` set up, as sshd will
// read it. sshd -T names the CA file (TrustedUserCAKeys) and the principals
// file (AuthorizedPrincipalsFile); both are trusted as root, so whoever can
// write either (or a directory above it) can log in. Every principals line
// must parse (authorized_keys option syntax, the project's own parser) and
// run the gate. Certificates themselves are on the clients: what doctor
// cannot see it states as the rule (force-command).
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { describeKey, getOption, hasOption, parseAuthorizedKeys } from '../sshd/authorized-keys.js';
import { authorizedKeysFiles } from '../sshd/config.js';
import type { PasswdEntry } from '../sshd/passwd.js';
import { parsePrincipals } from '../sshd/principals.js';
import { effectiveValue, type Effective } from '../sshd/run.js';
import { trustProblem } from '../policy/trust.js';
import { parseGateCommand, type Check } from './checks.js';

const ok = (check: string, detail: string): Check => ({ status: 'ok', check, detail });
const info = (check: string, detail: string): Check => ({ status: 'info', check, detail });
const warn = (check: string, detail: string, fix: string): Check => ({ status: 'warn', check, detail, fix });
const fail = (check: string, detail: string, fix: string): Check => ({ status: 'fail', check, detail, fix });

const INSTALL = 'gatekeeper install --ca CA.pub --principal NAME --policy P';

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** A principals line that runs the gate: what doctor checks its policy for. */
export interface PrincipalGate {
  file: string;
  lineNo: number;
  name: string;
  command: string;
  launcher: string;
  policy: string | null;
  policyDir: string | null;
}

export function principalGates(text: string, file: string): PrincipalGate[] {
  return parsePrincipals(text).flatMap((l, i) => {
    if (l.kind !== 'principal') return [];
    const cmd = getOption(l.options, 'command')?.value;
    const g = cmd ? parseGateCommand(cmd) : null;
    return g ? [{ file, lineNo: i + 1, name: l.name, ...g }] : [];
  });
}

/** The principals file sshd reads for this user, or null when it reads none. */
export function principalsFileFor(eff: Effective, user: PasswdEntry): string | null {
  const v = effectiveValue(eff, 'authorizedprincipalsfile') ?? 'none';
  return authorizedKeysFiles(v, user)[0] ?? null;
}

function caFileChecks(path: string, user: PasswdEntry): Check[] {
  const st = lstatOrNull(path);
  if (!st) return [fail('CA file', `${path} (TrustedUserCAKeys) does not exist: sshd accepts no certificate`, INSTALL)];
  const trust = trustProblem(path);
  if (trust) return [fail('CA file', `${path} (TrustedUserCAKeys): ${trust}; whoever can write it can add a CA and log in as ${user.name}`, `chown root:root and chmod go-w ${path} and the directories above it`)];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return [fail('CA file', `${path} (TrustedUserCAKeys) cannot be read: ${(e as Error).message}`, `chmod 644 ${path}`)];
  }
  if (!st.isFile() && !st.isSymbolicLink()) return [fail('CA file', `${path} is not a regular file: sshd cannot read keys from it`, INSTALL)];
  const out: Check[] = [];
  const cas: string[] = [];
  for (const [i, l] of parseAuthorizedKeys(text).entries()) {
    if (l.kind === 'invalid') out.push(warn('CA file', `${path}:${i + 1} is not a public key (${l.error}); sshd skips it`, 'fix or remove the line'));
    else if (l.kind === 'key' && (l.options.length || l.key.type.includes('-cert-v01@'))) out.push(warn('CA file', `${path}:${i + 1} ${l.options.length ? 'has options' : 'is a certificate'}; sshd reads bare public keys only`, 'keep only the CA\'s public key on the line'));
    else if (l.kind === 'key') cas.push(describeKey(l.key));
  }
  if (cas.length === 0) out.push(warn('CA file', `${path} (TrustedUserCAKeys) holds no CA: sshd accepts no certificate`, INSTALL));
  else out.push(ok('CA file', `${path} (TrustedUserCAKeys), root's alone, mode ${(st.mode & 0o777).toString(8)}: ${cas.join('; ')}`));
  return out;
}

function principalsFileChecks(file: string, user: PasswdEntry): Check[] {
  const st = lstatOrNull(file);
  if (!st) return [warn('principals file', `${file} (AuthorizedPrincipalsFile) does not exist: no certificate can log in as ${user.name}`, INSTALL)];
  // sshd opens it under StrictModes: owned by root or the user, nobody else may write it or a directory above it.
  const trust = trustProblem(file, { trustedUids: [0, user.uid] });
  if (trust) return [fail('principals file', `${file}: ${trust}; sshd's StrictModes refuses it, and whoever can write it can map a principal to any command`, `chown root:root and chmod 644 ${file}; chmod go-w the directories above it`)];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return [fail('principals file', `${file} cannot be read: ${(e as Error).message}`, `chmod 644 ${file}`)];
  }
  const out: Check[] = [];
  const gates = new Map(principalGates(text, file).map((g) => [g.lineNo, g]));
  let lines = 0;
  for (const [i, l] of parsePrincipals(text).entries()) {
    const where = `${file}:${i + 1}`;
    if (l.kind === 'invalid') {
      out.push(fail('principals line', `${where} is not a valid line (${l.error}); sshd ignores it, so its principal cannot log in`, 'gatekeeper install --ca again for the principal'));
      continue;
    }
    if (l.kind !== 'principal') continue;
    lines++;
    const g = gates.get(i + 1);
    if (!g) {
      const cmd = getOption(l.options, 'command')?.value;
      out.push(fail('principals line', `${where} principal ${l.name}: ${cmd === undefined ? 'no command=, so a certificate for it gets whatever it asks for' : `command="${cmd}" is not the gate`}`, `gatekeeper install --ca CA.pub --principal ${l.name} --policy P`));
      continue;
    }
    const problems: string[] = [];
    if (!hasOption(l.options, 'restrict') && !['no-port-forwarding', 'no-agent-forwarding', 'no-x11-forwarding', 'no-pty', 'no-user-rc'].every((r) => hasOption(l.options, r))) problems.push('no restrict (forwarding, pty and ~/.ssh/rc stay allowed)');
    if (!g.launcher.startsWith('/')) problems.push(`${g.launcher} is not an absolute path`);
    if (!g.policy) problems.push('no --policy');
    if (hasOption(l.options, 'environment')) problems.push('environment= on a gate line');
    out.push(problems.length ? fail('principals line', `${where} principal ${l.name}: ${problems.join('; ')}`, `gatekeeper install --ca CA.pub --principal ${l.name} --policy P`) : ok('principals line', `${where} principal ${l.name} → ${g.command}`));
    if (g.policy) {
      out.push(info('certificate force-command', `a certificate for ${l.name} that carries its own force-command (ssh-keygen -O force-command=…) must carry exactly "${g.command}", or sshd refuses the session (auth-options.c, sshauthopt_merge: "forced command options do not match"); without one, this line's command runs`));
    }
  }
  if (lines === 0) out.push(warn('principals file', `${file} names no principal: no certificate can log in as ${user.name}`, INSTALL));
  return out;
}

/**
 * The certificate set-up, from sshd -T -C user=USER: nothing when sshd
 * trusts no CA and reads no principals file (keys only).
 */
export function certificateChecks(eff: Effective, user: PasswdEntry): Check[] {
  const ca = effectiveValue(eff, 'trustedusercakeys') ?? 'none';
  const apf = effectiveValue(eff, 'authorizedprincipalsfile') ?? 'none';
  const apc = effectiveValue(eff, 'authorizedprincipalscommand') ?? 'none';
  if (ca === 'none' && apf === 'none') return [];
  const out: Check[] = [];
  if (ca === 'none') out.push(warn('TrustedUserCAKeys', `none, though AuthorizedPrincipalsFile is ${apf}: sshd accepts no certificate`, INSTALL));
  else out.push(ok('TrustedUserCAKeys', `${ca}`), ...caFileChecks(ca, user));
  if (apf === 'none') {
    if (ca !== 'none' && apc === 'none') out.push(fail('AuthorizedPrincipalsFile', `none: sshd accepts any certificate from ${ca} whose principals include "${user.name}", and no principals line forces the gate's command`, `${INSTALL} (sets AuthorizedPrincipalsFile DIR/%u)`));
  } else {
    out.push(ok('AuthorizedPrincipalsFile', apf));
    const file = principalsFileFor(eff, user);
    if (file) out.push(...principalsFileChecks(file, user));
  }
  return out;
}


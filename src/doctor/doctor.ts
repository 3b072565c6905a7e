// `gatekeeper doctor`: run every check, print one line each (or JSON), and
// exit non-zero when any check fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EX_CONFIG } from '../exit.js';
import { authorizedKeysFiles, firstGlobalSetting } from '../sshd/config.js';
import { fsConfigReader } from '../sshd/files.js';
import { lookupUser } from '../sshd/passwd.js';
import { sshdEffective, effectiveValue } from '../sshd/run.js';
import { certificateChecks, principalGates, principalsFileFor, type PrincipalGate } from './ca.js';
import { authorizedKeysChecks, cacheCheck, formatCheck, gateLines, modeChecks, nodeCheck, policyChecks, shellCheck, sshdChecks, type Check } from './checks.js';

export interface DoctorOptions {
  policy?: string;
  policyDir?: string;
  user: string;
  sshdConfig: string;
  authorizedKeys?: string;
  sshd: string;
  json: boolean;
  /** The current time (ms since the epoch), a fact: for keys' expiry-time. */
  now?: number;
  out: (s: string) => void;
}

export async function doctor(o: DoctorOptions): Promise<{ checks: Check[]; code: number }> {
  const checks: Check[] = [];
  const user = await lookupUser(o.user);
  if (!user) {
    checks.push({ status: 'fail', check: 'user', detail: `no such user: ${o.user}`, fix: 'pass --user NAME' });
    return finish(o, checks);
  }
  const akPath = o.authorizedKeys ?? join(user.home, '.ssh', 'authorized_keys');
  let akText = '';
  try {
    akText = readFileSync(akPath, 'utf8');
  } catch {
    akText = '';
  }
  const gates = gateLines(akText);

  const eff = await sshdEffective(o.sshd, o.sshdConfig, { user: user.name, host: 'localhost', addr: '127.0.0.1' });
  if ('error' in eff) checks.push({ status: 'fail', check: 'sshd -T', detail: `${o.sshd} -T -f ${o.sshdConfig}: ${eff.error}`, fix: `fix ${o.sshdConfig} until sshd -t passes` });
  // Certificates: the principals file sshd reads for the user (install --ca).
  const pfile = 'error' in eff ? null : principalsFileFor(eff, user);
  let principals: PrincipalGate[] = [];
  try {
    principals = pfile ? principalGates(readFileSync(pfile, 'utf8'), pfile) : [];
  } catch {
    principals = [];
  }
  if (!('error' in eff)) {
    const akFiles = authorizedKeysFiles(effectiveValue(eff, 'authorizedkeysfile') ?? '.ssh/authorized_keys', user);
    checks.push(...sshdChecks(eff, user, akPath, akFiles, gates.length + principals.length > 0, firstGlobalSetting('permitrootlogin', o.sshdConfig, fsConfigReader)));
    checks.push(...certificateChecks(eff, user));
  }
  checks.push(...authorizedKeysChecks(akText, akPath, o.now ?? Date.now()));
  checks.push(...modeChecks(akPath, user));
  checks.push(...(await shellCheck(user)));

  // The policies: the one asked for, else every one a gate line names.
  const wanted = new Map<string, string | undefined>();
  if (o.policy) wanted.set(o.policy, o.policyDir);
  else for (const g of [...gates, ...principals]) if (g.policy) wanted.set(g.policy, g.policyDir ?? o.policyDir);
  if (o.policy && ![...gates, ...principals].some((g) => g.policy === o.policy)) {
    checks.push({ status: 'warn', check: `policy ${o.policy}`, detail: `no gate line in ${akPath} uses it`, fix: `gatekeeper install --policy ${o.policy} --key FILE` });
  }
  for (const [name, dir] of wanted) checks.push(...(await policyChecks(name, dir, user)));
  checks.push(await nodeCheck(gates[0]?.launcher ?? principals[0]?.launcher ?? null));
  checks.push(cacheCheck());
  return finish(o, checks);
}

function finish(o: DoctorOptions, checks: Check[]): { checks: Check[]; code: number } {
  if (o.json) o.out(`${JSON.stringify(checks, null, 2)}\n`);
  else o.out(`${checks.map(formatCheck).join('\n')}\n`);
  return { checks, code: checks.some((c) => c.status === 'fail') ? EX_CONFIG : 0 };
}

// Which files audit reads, and in which order.
//
// By default: every installed policy's `log` (and `transferLog`) plus the
// rotated siblings logrotate leaves (`.1`, `.2.gz`, … or dateext's
// `-20261126.gz`). Each family is read oldest file first, so one family is
// already in time order; families are then merged by time.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PolicySchema, type Policy } from '../../policy/schema.js';

export const DEFAULT_POLICY_DIR = '/etc/gatekeeper/policies';

/** A set of files read one after the other as one time-ordered stream; "-" is stdin. */
export interface Family {
  /** The live file (or "-"), used in messages and to join transfer logs. */
  base: string;
  /** Oldest first; the live file last. */
  files: string[];
}

export interface PolicyFile {
  name: string;
  file: string;
  policy: Policy;
}

/** The policies in a directory; broken ones are reported through `warn` and skipped. */
export function readPolicies(dir: string, warn: (message: string) => void): PolicyFile[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    warn(`cannot read policy directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return [];
  }
  const out: PolicyFile[] = [];
  for (const entry of entries) {
    const m = /^(.+)\.(ya?ml|json)$/.exec(entry);
    if (!m) continue;
    const file = join(dir, entry);
    const policy = readPolicyFile(file, warn);
    if (policy) out.push({ name: m[1]!, file, policy });
  }
  return out;
}

export function readPolicyFile(file: string, warn: (message: string) => void): Policy | null {
  try {
    const result = PolicySchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
    if (result.success) return result.data;
    warn(`${file}: not a valid policy (${result.error.issues.map((i) => i.message).join('; ')}); skipped`);
  } catch (err) {
    warn(`${file}: ${(err as Error).message}; skipped`);
  }
  return null;
}

/** How a rotated file sorts within its family: higher = newer. */
function rotationAge(base: string, file: string): number | null {
  if (file === base) return Number.POSITIVE_INFINITY;
  const rest = file.slice(base.length);
  const numbered = /^\.(\d+)(?:\.gz)?$/.exec(rest);
  if (numbered) return -Number(numbered[1]); // .1 is newer than .2
  const dated = /^-(\d{8}(?:\d{2})?)(?:\.gz)?$/.exec(rest);
  if (dated) return Number(dated[1]!.padEnd(10, '0')); // dateext: later date is newer
  return null;
}

/** The live file and its rotated siblings that exist, oldest first. */
export function rotatedFamily(base: string): Family {
  let names: string[];
  try {
    names = readdirSync(dirname(base));
  } catch {
    return { base, files: [] };
  }
  const dir = dirname(base);
  const ranked: { file: string; age: number }[] = [];
  for (const name of names) {
    const file = join(dir, name);
    if (!file.startsWith(base)) continue;
    const age = rotationAge(base, file);
    if (age === null || !isFile(file)) continue;
    ranked.push({ file, age });
  }
  ranked.sort((a, b) => a.age - b.age);
  return { base, files: ranked.map((r) => r.file) };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The family a rotated file belongs to, from its name alone. */
export function familyBase(file: string): string {
  return file.replace(/(?:\.\d+|-\d{8}(?:\d{2})?)?(?:\.gz)?$/, '');
}

/**
 * Groups explicitly named files into families (a live file with its rotated
 * copies), each ordered oldest first; "-" is its own family.
 */
export function groupFamilies(files: readonly string[]): Family[] {
  const families = new Map<string, string[]>();
  for (const file of files) {
    const base = file === '-' ? '-' : familyBase(file);
    const list = families.get(base) ?? [];
    if (!list.includes(file)) list.push(file);
    families.set(base, list);
  }
  return [...families].map(([base, list]) => ({
    base,
    files: list.sort((a, b) => (rotationAge(base, a) ?? 0) - (rotationAge(base, b) ?? 0)),
  }));
}

/**
 * Expands a glob's last path component (`*`, `?`, `[...]`). Node 20 has no
 * fs.glob, and the shell has usually expanded globs already; this covers the
 * quoted case (`--log '/var/log/gatekeeper/*.log*'`). No match: the pattern
 * itself, so the caller reports the missing file.
 */
export function expandGlob(pattern: string): string[] {
  if (pattern === '-' || !/[*?[]/.test(basename(pattern))) return [pattern];
  const dir = dirname(pattern);
  if (/[*?[]/.test(dir)) return [pattern];
  const re = globToRegExp(basename(pattern));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [pattern];
  }
  const matches = names.filter((n) => re.test(n) && !(n.startsWith('.') && !basename(pattern).startsWith('.'))).sort();
  return matches.length > 0 ? matches.map((n) => join(dir, n)) : [pattern];
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let set = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = '^' + set.slice(1);
        re += `[${set}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface DefaultSources {
  logs: Family[];
  transferLogs: Family[];
  policies: PolicyFile[];
}

/** The logs the installed policies write, with their rotated siblings. */
export function defaultSources(policyDir: string, warn: (message: string) => void): DefaultSources {
  const policies = readPolicies(policyDir, warn);
  const logs = new Set<string>();
  const transfer = new Set<string>();
  for (const { name, policy } of policies) {
    if (policy.log === 'syslog') {
      warn(`policy ${name} logs to syslog; read it with: journalctl -t gatekeeper -o json | gatekeeper audit --log -`);
    } else logs.add(policy.log);
    if (policy.transferLog) transfer.add(policy.transferLog);
  }
  return {
    logs: [...logs].map(rotatedFamily).filter((f) => f.files.length > 0),
    transferLogs: [...transfer].map(rotatedFamily).filter((f) => f.files.length > 0),
    policies,
  };
}

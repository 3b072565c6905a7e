// Finding and reading a policy file, without parsing it: what every loader
// shares. Kept apart from load.ts (the YAML parser and the schema library)
// so that the gate can reuse a validated policy without loading either.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { configError } from '../exit.js';
import { trustProblem } from './trust.js';

export const DEFAULT_POLICY_DIR = '/etc/gatekeeper/policies';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

export interface ReadOptions {
  policyDir?: string;
  /** Check owner and mode along the path (default: when running as root). */
  checkTrust?: boolean;
}

/** Where a policy name or path points; throws a configuration error when it is not found. */
export function locatePolicy(nameOrPath: string, policyDir = DEFAULT_POLICY_DIR): string {
  if (nameOrPath.startsWith('/')) {
    try {
      statSync(nameOrPath);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw configError(`policy ${nameOrPath} ${code === 'ENOENT' ? 'not found' : `cannot be read (${code})`}`, 'policy-missing');
    }
    return nameOrPath;
  }
  if (!NAME.test(nameOrPath) || nameOrPath.includes('..')) {
    throw configError(`policy name "${nameOrPath}" is not valid: use letters, digits, ".", "_" and "-", or an absolute path`);
  }
  if (!isAbsolute(policyDir)) throw configError(`--policy-dir must be an absolute path, not "${policyDir}"`);
  const found: string[] = [];
  for (const ext of EXTENSIONS) {
    const candidate = join(policyDir, nameOrPath + ext);
    try {
      statSync(candidate);
      found.push(candidate);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') found.push(candidate);
    }
  }
  if (found.length === 0) throw configError(`policy "${nameOrPath}" not found: looked for ${EXTENSIONS.map((x) => nameOrPath + x).join(', ')} in ${policyDir}`, 'policy-missing');
  if (found.length > 1) throw configError(`policy "${nameOrPath}" is ambiguous: ${found.join(' and ')} both exist; keep one`);
  return found[0]!;
}

/** Locate a policy, check its trust chain, and read its text. */
export function readPolicyFile(nameOrPath: string, opts: ReadOptions = {}): { file: string; text: string } {
  const file = locatePolicy(nameOrPath, opts.policyDir);
  const checkTrust = opts.checkTrust ?? process.getuid?.() === 0;
  if (checkTrust) {
    const problem = trustProblem(file);
    if (problem) throw configError(`untrusted policy: ${problem}`, 'untrusted');
  }
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (e) {
    throw configError(`cannot read policy ${file}: ${(e as Error).message}`, 'policy-missing');
  }
}

// Finding, reading and validating a policy file. JSON needs nothing extra;
// YAML loads its parser only when a .yaml/.yml policy is used.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { configError } from '../exit.js';
import { PolicySchema, type LoadedPolicy, type Policy } from './schema.js';
import { trustProblem } from './trust.js';
import { knownOption } from '../rsync/options.js';

export const DEFAULT_POLICY_DIR = '/etc/gatekeeper/policies';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

export interface LoadOptions {
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

export async function loadPolicy(nameOrPath: string, opts: LoadOptions = {}): Promise<LoadedPolicy> {
  const file = locatePolicy(nameOrPath, opts.policyDir);
  const checkTrust = opts.checkTrust ?? process.getuid?.() === 0;
  if (checkTrust) {
    const problem = trustProblem(file);
    if (problem) throw configError(`untrusted policy: ${problem}`, 'untrusted');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw configError(`cannot read policy ${file}: ${(e as Error).message}`, 'policy-missing');
  }
  const data = await parsePolicyText(text, file);
  return { name: nameOrPath, file, policy: validatePolicy(data, file) };
}

export async function parsePolicyText(text: string, file: string): Promise<unknown> {
  try {
    if (file.endsWith('.json')) return JSON.parse(text);
    // yaml is CommonJS: bundled, its functions may sit on the default export.
    const mod = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
    const parse = typeof mod.parse === 'function' ? mod.parse : mod.default!.parse;
    return parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    throw configError(`policy ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`, 'policy-invalid');
  }
}

/** Validate parsed policy data; throws a configuration error listing every problem. */
export function validatePolicy(data: unknown, file: string): Policy {
  const result = PolicySchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${(i as { keys: string[] }).keys.join(', ')}` : i.message;
      return `${where}: ${msg}`;
    });
    throw configError(`policy ${file} is invalid: ${problems.join('; ')}`, 'policy-invalid');
  }
  const policy = result.data;
  const problems: string[] = [];
  for (const name of policy.options.allow) {
    const spec = knownOption(name);
    if (!spec) problems.push(`options.allow: "${name}" is not an rsync server option`);
    else if (spec.risk === 'refused') problems.push(`options.allow: ${name} is always refused and cannot be allowed (${spec.why})`);
    else if (spec.risk === 'delete') problems.push(`options.allow: ${name} deletes files; use "delete: true" instead`);
  }
  for (const name of policy.options.deny) {
    if (!knownOption(name)) problems.push(`options.deny: "${name}" is not an rsync server option`);
  }
  if (problems.length) throw configError(`policy ${file} is invalid: ${problems.join('; ')}`, 'policy-invalid');
  return policy;
}

// Finding, reading and validating a policy file. JSON needs nothing extra;
// YAML loads its parser only when a .yaml/.yml policy is used.
import { resolve } from 'node:path';
import { configError } from '../exit.js';
import { PolicySchema, type LoadedPolicy, type Policy } from './schema.js';
import { knownOption } from '../rsync/options.js';
import { readPolicyFile, type ReadOptions } from './locate.js';

// Finding and reading live in locate.ts (the gate's fast path needs them
// without the parser and schema); re-exported for the existing callers.
export { DEFAULT_POLICY_DIR, locatePolicy } from './locate.js';

export type LoadOptions = ReadOptions;

export async function loadPolicy(nameOrPath: string, opts: LoadOptions = {}): Promise<LoadedPolicy> {
  const { file, text } = readPolicyFile(nameOrPath, opts);
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

/**
 * For the admin commands (check, policy validate), a policy argument that
 * looks like a file (has a "/" or a policy extension) is a path relative to
 * the working directory. The gate itself takes only names and absolute paths.
 */
export function adminPolicyArg(arg: string): string {
  return !arg.startsWith('/') && (arg.includes('/') || /\.(ya?ml|json)$/.test(arg)) ? resolve(arg) : arg;
}

// Temporary policies and trees for tests: root-owned 0700 directories, so
// the gate's trust chain accepts them when the tests run as root.
import { afterAll, beforeAll } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicySchema, type Policy, type PolicyInput } from '../../src/policy/schema.js';
import { validatePolicy } from '../../src/policy/load.js';
import { GatekeeperError } from '../../src/exit.js';

export function tempDir(prefix = 'gk-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o700);
  return d;
}

/** A policy value with defaults applied, as the loader returns it. */
export function policy(input: PolicyInput = {}): Policy {
  return PolicySchema.parse(input);
}

/** The configuration error validatePolicy (the loader's check) raises for `data`; throws if it accepts it. */
export function policyRefusal(data: unknown): GatekeeperError {
  try {
    validatePolicy(data, '/etc/gatekeeper/policies/p.yaml');
  } catch (e) {
    if (e instanceof GatekeeperError) return e;
    throw e;
  }
  throw new Error('accepted');
}

/** Write a policy file (JSON or YAML by extension) and return its path. */
export function writePolicy(dir: string, input: PolicyInput, name = 'p.json'): string {
  const file = join(dir, name);
  const text = name.endsWith('.json')
    ? JSON.stringify(input)
    : Object.entries(input)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join('\n');
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return file;
}

/**
 * A small server tree: files with awkward names, a symlink that stays inside
 * and one that points out, and a directory outside root to point at. Besides
 * "outside", a sibling whose name extends root's ("root2", reached through
 * the link "twinlink"): a containment check that compares names as strings
 * without the "/" after root takes it for root itself.
 */
export function makeTree(base: string): { root: string; outside: string; twin: string } {
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  const twin = join(base, 'root2');
  for (const d of [root, outside, twin, join(root, 'data'), join(root, 'a b'), join(root, 'x'), join(root, 'dst'), join(root, 'bk')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(outside, 'secret'), 'outside root\n');
  writeFileSync(join(twin, 'secret'), 'beside root\n');
  writeFileSync(join(twin, 'list'), 'secret\n');
  writeFileSync(join(root, 'data', 'file.c'), 'int main;\n');
  writeFileSync(join(root, 'data', 'other.c'), 'int other;\n');
  writeFileSync(join(root, 'a b', 'f'), 'space\n');
  writeFileSync(join(root, 'x', '$y;z'), 'dollar\n');
  writeFileSync(join(root, 'list'), 'data/file.c\n');
  symlinkSync('data', join(root, 'inlink'));
  symlinkSync(outside, join(root, 'outlink'));
  symlinkSync(twin, join(root, 'twinlink'));
  return { root, outside, twin };
}

/** makeTree in a temporary directory for the whole test file; `root()` is its real path. */
export function useTree(): { root: () => string; outside: () => string; twin: () => string } {
  let base = '';
  let root = '';
  let outside = '';
  let twin = '';
  beforeAll(() => {
    base = tempDir();
    const t = makeTree(base);
    root = realpathSync(t.root);
    outside = realpathSync(t.outside);
    twin = realpathSync(t.twin);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  return { root: () => root, outside: () => outside, twin: () => twin };
}

// The attack corpus (corpus.ts) through evaluate() in this process: the same
// refusals, codes and reasons attacks.test.ts demands of the real gate, but
// against src/ itself, so that `npm run mutation` sees a mutant that lets an
// attack through (the bundle the process test runs is built before Stryker
// changes anything). The lab is the same tree: a policy root with a symlink
// pointing out of it and a secret outside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allAttacks, type Attack } from './corpus.js';
import { makeLab, type Lab } from './lab.js';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import { PolicySchema, type Policy, type PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';

const ATTACKS = allAttacks();
let lab: Lab;
const policies = new Map<string, Policy>();

beforeAll(() => {
  lab = makeLab('gk-sec-corpus-');
  const inputs: Record<string, PolicyInput> = {
    // As in attacks.test.ts: the most permissive ordinary policy, a read-only one, a write-only one, a daemon policy.
    lab: { rsync: lab.recorder, access: 'read-write', delete: true, root: lab.root },
    readonly: { rsync: lab.recorder, access: 'read-only', root: lab.root, allowTrue: false },
    writeonly: { rsync: lab.recorder, access: 'write-only', root: lab.root },
    daemon: { rsync: lab.recorder, daemon: { config: `${lab.dir}/rsyncd.conf` } },
  };
  for (const [name, input] of Object.entries(inputs)) policies.set(name, PolicySchema.parse(input));
});

afterAll(() => lab?.cleanup());

const session = (command: string): Session => ({ originalCommand: command, client: { addr: '127.0.0.1', port: 5555 }, server: null, user: 'root', userAuthFile: null });

describe('every attack is refused in-process with its code and reason', () => {
  // Both answers of the capability probe: a refusal must not depend on --confine-root.
  for (const confineRootSupported of [false, true]) {
    it.for(ATTACKS)(`$name (rsync ${confineRootSupported ? 'with' : 'without'} --confine-root)`, (attack: Attack) => {
      const d = evaluate(session(attack.command), policies.get(attack.policy ?? 'lab')!, { fs: realFs, confineRootSupported });
      const context = `command: ${JSON.stringify(attack.command.slice(0, 200))}`;
      expect(d.verdict, context).toBe('deny');
      if (d.verdict !== 'deny') return;
      expect(d.code, `${context}\nreason: ${d.reason}`).toBe(attack.code);
      expect(d.reason, context).toMatch(attack.reason);
    });
  }
});

describe('and permissive mode waives none of the refusals no policy can lift', () => {
  // enforce: false runs what the policy alone refuses (access, delete, options ...);
  // shell syntax, the grammar, the always-refused list and escapes from root stay refused.
  const waivable = new Set(['access', 'delete-refused', 'overwrite-refused', 'follow-links-refused', 'option-not-allowed', 'option-denied', 'daemon-only']);
  it.for(ATTACKS.filter((x) => !waivable.has(x.code)))('$name', (attack: Attack) => {
    const p = { ...policies.get(attack.policy ?? 'lab')!, enforce: false };
    const d = evaluate(session(attack.command), p, { fs: realFs, confineRootSupported: false });
    expect(d.verdict, attack.command.slice(0, 200)).toBe('deny');
    expect(d.verdict === 'deny' && d.code).toBe(attack.code);
  });
});

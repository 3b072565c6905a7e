// Every recorded line of every client, judged by the gate: what is allowed from
// rsync is allowed from openrsync, under the same policy, with the same argv
// guarantees. On a pull the deletion options delete on the client (the sending
// server never deletes), so a read-only policy without `delete: true` allows
// them; on a push they stay governed by `delete:`.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { evaluate } from '../../src/evaluate.js';
import { realFacts } from '../../src/facts.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { parseServerArgs } from '../../src/rsync/grammar.js';
import { makeTree, policy, tempDir } from '../helpers/policy.js';
import { CLIENTS, cleanupClients } from '../helpers/clients.js';
import type { Facts } from '../../src/decide.js';
import type { Corpus } from './record.js';

const corpus = JSON.parse(readFileSync(new URL('./corpus.json', import.meta.url), 'utf8')) as Corpus;
const DELETES = /^(delete|the original setup)/;

let base: string;
let root: string;
beforeAll(() => {
  base = tempDir();
  root = makeTree(base).root;
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  cleanupClients();
});

// The machine's facts once per rsync (the confine-root scan reads the binary):
// this file is part of the mutation run (vitest.mutation.config.ts), once per mutant.
const factsFor = new Map<string, Facts>();
const factsOf = (rsync: string): Facts => {
  let f = factsFor.get(rsync);
  if (!f) factsFor.set(rsync, (f = realFacts(rsync, true)));
  return f;
};

const judge = (line: string, input: PolicyInput) => {
  const p = policy(input);
  return evaluate({ originalCommand: line, client: { addr: '127.0.0.1', port: 1 }, server: null, user: 'root', userAuthFile: null }, p, factsOf(p.rsync));
};

const rows = CLIENTS.flatMap((c) =>
  Object.entries(corpus[c.name] ?? {})
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([set, line]) => ({ client: c.name, family: c.family, set, line })),
);

it('the corpus has every client, and openrsync lines among them', () => {
  expect(Object.keys(corpus).sort()).toEqual(CLIENTS.map((c) => c.name).sort());
  expect(rows.filter((r) => r.family === 'openrsync').length).toBeGreaterThan(100);
});

describe.each(rows)('$client: $set', ({ set, line }) => {
  const pull = set.endsWith('(pull)');
  it(pull ? 'a read-only policy (no delete: true) allows the pull' : 'a write-only policy allows the push, deletions only with delete: true', () => {
    const d = pull ? judge(line, { access: 'read-only', root }) : judge(line, { access: 'write-only', root, delete: true });
    expect(d.verdict, `${line}\n${d.reason}`).toBe('allow');
    if (d.verdict !== 'allow') return;
    // The argv guarantees: options end with "--" before ".", the paths are mapped into root.
    const dot = d.argv.indexOf('.');
    expect(d.argv[dot - 1]).toBe('--');
    for (const p of d.argv.slice(dot + 1)) expect(!p.startsWith('/') || p.startsWith(root), p).toBe(true);
    if (!pull && DELETES.test(set)) {
      const without = judge(line, { access: 'write-only', root });
      expect(without, line).toMatchObject({ verdict: 'deny', code: 'delete-refused' });
    }
  });
  it('the opposite direction is refused', () => {
    const d = pull ? judge(line, { access: 'write-only', root, delete: true }) : judge(line, { access: 'read-only', root });
    expect(d).toMatchObject({ verdict: 'deny', code: 'access' });
  });
  it('parses', () => {
    expect(parseServerArgs(line.split(' ')).ok).toBe(true);
  });
});

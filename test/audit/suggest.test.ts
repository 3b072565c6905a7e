// `audit --suggest` round trip: sessions refused by the real gate → the
// suggested YAML applied to the policy → `gatekeeper check` allows exactly
// those commands, and nothing on the always-refused list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { tempDir, writePolicy } from '../helpers/policy.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { ALWAYS_REFUSED, LONG_OPTIONS, knownOption, namesOf } from '../../src/rsync/options.js';
import { SuggestCollector, suggest, renderSuggestions } from '../../src/audit/views/suggest.js';
import { PolicySchema } from '../../src/policy/schema.js';
import { evaluate } from '../../src/evaluate.js';
import { realFacts } from '../../src/facts.js';
import { audit, check, rec, runGate } from './helpers.js';

const dir = tempDir('gk-audit-suggest-');
const policies = join(dir, 'policies');
const data = join(dir, 'data');
const log = join(dir, 'gatekeeper.log');

beforeAll(() => {
  mkdirSync(policies, { mode: 0o700 });
  mkdirSync(join(data, 'dst'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PULL = 'rsync --server --sender -logDtpre.iLsfxCIvu . /';
/** What real rsync clients send (recorded from rsync 3.5's client). */
const logged = [
  { what: 'push with --delete', client: '198.51.100.7', command: 'rsync --server -logDtpre.iLsfxCIvu --delete . /dst/', fixable: true },
  // Under a root other than "/" -L follows links out of it: never suggested (see below).
  { what: 'pull with -L', client: '198.51.100.7', command: 'rsync --server --sender -lLogDtpre.iLsfxCIvu . /', fixable: false },
  { what: 'push with --backup', client: '198.51.100.8', command: 'rsync --server -blogDtpre.iLsfxCIvu . /dst/', fixable: true },
  { what: 'pull from outside "from"', client: '203.0.113.5', command: PULL, fixable: true },
  { what: 'pull with -M--log-file', client: '198.51.100.7', command: 'rsync --server --sender -logDtpre.iLsfxCIvu --log-file=/tmp/x . /', fixable: false },
  { what: 'pull with -s', client: '198.51.100.7', command: 'rsync --server --sender -slogDtpre.iLsfxCIvu', fixable: false },
  { what: 'pull of ../etc', client: '198.51.100.7', command: 'rsync --server --sender -logDtpre.iLsfxCIvu . /../etc', fixable: false },
];
/**
 * Never logged: the suggestion must not let these through. (Deletion options
 * are not among them: `delete: true` is one key for all of them by design.)
 */
const notLogged = [
  { what: 'push with --delay-updates', client: '198.51.100.7', command: 'rsync --server -logDtpre.iLsfxCIvu --delay-updates . /dst/' },
  { what: 'pull with -K', client: '198.51.100.7', command: 'rsync --server --sender -Klogre.iLsfxCIvu . /' },
  { what: 'push from another address', client: '203.0.113.77', command: 'rsync --server -logDtpre.iLsfxCIvu . /dst/' },
  { what: 'pull with --only-write-batch', client: '198.51.100.7', command: 'rsync --server --sender -logDtpre.iLsfxCIvu --only-write-batch=X . /' },
];

const base: PolicyInput = { root: data, log, access: 'read-only', overwrite: false, from: ['198.51.100.0/24'] };

/** Apply a suggestion document: each key it holds replaces the policy's. */
function apply(policy: PolicyInput, yamlText: string, name: string): PolicyInput {
  const docs = parseAllDocuments(yamlText);
  const doc = docs.find((d) => String(d.commentBefore ?? '').includes(`policy "${name}"`));
  expect(doc, `a document for policy ${name}`).toBeDefined();
  expect(doc!.errors).toEqual([]);
  return { ...policy, ...((doc!.toJS() as PolicyInput | null) ?? {}) };
}

describe.each([
  ['enforcing', 'strict', { ...base }],
  ['permissive (would-deny sessions)', 'learning', { ...base, enforce: false }],
])('round trip, %s policy', (_kind, name, policy) => {
  let yamlText = '';
  let suggested: PolicyInput;

  beforeAll(() => {
    writePolicy(policies, policy, `${name}.json`);
    for (const s of logged) runGate(policies, name, s.command, { client: s.client });
    const r = audit(['--log', log, '--suggest', '--policy', name], { policyDir: policies });
    expect(r.status).toBe(0);
    yamlText = r.stdout;
    suggested = apply(policy, yamlText, name);
    writePolicy(policies, { ...suggested, enforce: true }, `${name}-suggested.json`);
  });

  it('suggests the keys the refusals need, each with the sessions that needed it', () => {
    expect(suggested.access).toBe('read-write');
    expect(suggested.delete).toBe(true);
    expect(suggested.from).toEqual(['198.51.100.0/24', '203.0.113.5']);
    expect(suggested.options?.allow).toEqual(['-b']);
    const sessions = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { policy: string; command: string; session: string })
      .filter((r) => r.policy === name);
    const pushDelete = sessions.find((r) => r.command === logged[0]!.command)!;
    expect(yamlText).toMatch(new RegExp(`^delete: true # needed by: push /dst/ .*--delete from 198\\.51\\.100\\.7.*${pushDelete.session}`, 'm'));
  });

  it('never suggests an always-refused option; lists those refusals to look into', () => {
    const allow = suggested.options?.allow ?? [];
    for (const name of allow) expect(ALWAYS_REFUSED.some((x) => namesOf(knownOption(x)!).includes(name))).toBe(false);
    expect(yamlText).toContain('Refusals to look into');
    expect(yamlText).toMatch(/# .*--log-file=\/tmp\/x from 198\.51\.100\.7/);
    expect(yamlText).toMatch(/#\s+option --log-file is always refused/);
  });

  it('never suggests following symlinks out of the root; says why, and how to lift it by hand', () => {
    expect(suggested.options?.allow ?? []).not.toContain('-L');
    expect(yamlText).toMatch(/^# +pull \/ -lLogDtpre\.iLsfxCIvu from 198\.51\.100\.7/m);
    expect(yamlText).toContain(`option -L is refused: copy-links follows every symlink, also ones pointing out of root; following symlinks could leave the policy root; list it in options.allow only if every symlink under root is trusted. Not suggested: it follows symlinks out of the policy root ${data}, as root, so it is safe only if no one but root can create a symlink under it; if so, add it to options.allow yourself`);
  });

  it.each(logged)('check after applying: $what', ({ client, command, fixable }) => {
    const r = check(join(policies, `${name}-suggested.json`), command, client);
    expect(r.status, r.stdout + r.stderr).toBe(fixable ? 0 : 77);
  });

  it.each(notLogged)('check after applying, never logged, still refused: $what', ({ client, command }) => {
    expect(check(join(policies, `${name}-suggested.json`), command, client).status).toBe(77);
  });
});

describe('suggest() on arbitrary option mixes', () => {
  const pdir = join(dir, 'prop');
  const root = join(dir, 'prop-root');
  beforeAll(() => {
    mkdirSync(pdir, { mode: 0o700 });
    mkdirSync(root);
  });
  // Flag-like options of every risk class (no argument, so the command stays valid).
  const candidates = LONG_OPTIONS.filter((o) => o.arg === 'none' && !['--server', '--sender', '--daemon', '--drop-D'].includes(o.name)).map((o) => o.name);

  it('allows exactly the commands without an always-refused or a link-following option, and never names one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ opts: fc.subarray(candidates, { maxLength: 4 }), sender: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.record({ access: fc.constantFrom('read-only', 'write-only', 'read-write'), overwrite: fc.boolean(), delete: fc.boolean() }),
        async (sessions, keys) => {
          const input = { root, log, ...keys } as PolicyInput;
          writePolicy(pdir, input, 'p.json');
          const collector = new SuggestCollector();
          const commands = sessions.map((s, i) => `rsync --server ${s.sender ? '--sender ' : ''}-logDtpre.iLsfxCIvu ${s.opts.join(' ')} . /`.replace(/  +/g, ' '));
          const t = Date.parse('2026-11-26T10:00:00Z');
          commands.forEach((command, i) => collector.add(rec({ time: new Date(t + i).toISOString(), event: 'deny', policy: 'p', command, reason: 'refused' }), t + i));
          const [s] = await suggest(collector, { policyDir: pdir });
          const text = renderSuggestions([s!]);
          const docs = parseAllDocuments(text);
          expect(docs[0]!.errors).toEqual([]);
          const applied = PolicySchema.parse({ ...input, ...((docs[0]!.toJS() as object | null) ?? {}), enforce: true });
          for (const name of applied.options.allow) expect(knownOption(name)?.risk).not.toBe('refused');
          const facts = realFacts(applied.rsync, false);
          commands.forEach((command, i) => {
            // Link-following options are never suggested under a root other than "/" (this one).
            const hasRefused = sessions[i]!.opts.some((o) => knownOption(o)?.risk === 'refused' || knownOption(o)?.risk === 'follow-links');
            const d = evaluate({ originalCommand: command, client: null, server: null, user: 'root', userAuthFile: null }, applied, facts);
            expect(d.verdict, `${command} under ${JSON.stringify(applied)}`).toBe(hasRefused ? 'deny' : 'allow');
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});

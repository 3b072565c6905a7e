// audit and backup windows: `--summary` counts outside-window refusals by
// their code, and `--suggest` never widens or drops a window: a session
// outside it is a refusal to look into, judged at the time it happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { tempDir, writePolicy } from '../helpers/policy.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { SuggestCollector, suggest, renderSuggestions } from '../../src/audit/views/suggest.js';
import { wallClock } from '../../src/window.js';
import { audit, jsonLines, rec, runGate } from './helpers.js';

const dir = tempDir('gk-audit-window-');
const policies = join(dir, 'policies');
const data = join(dir, 'data');
const log = join(dir, 'gatekeeper.log');

const PULL = 'rsync --server --sender -logDtpre.iLsfxCIvu . /';
const PUSH_DELETE = 'rsync --server -logDtpre.iLsfxCIvu --delete . /dst/';

const hhmm = (m: number) => {
  const x = ((m % 1440) + 1440) % 1440;
  return `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
};
/** A UTC range from `from` to `to` minutes relative to now. */
function rangeFromNow(from: number, to: number): string {
  const w = wallClock(Date.now(), 'UTC');
  const m = w.hour * 60 + w.minute;
  return `${hhmm(m + from)}-${hhmm(m + to)}`;
}

/** Every key a suggestion document sets. */
const suggestedKeys = (yamlText: string): string[] =>
  parseAllDocuments(yamlText).flatMap((d) => {
    expect(d.errors).toEqual([]);
    return Object.keys((d.toJS() as object | null) ?? {});
  });

// Opens two hours from now: every session below is outside it.
const closed = rangeFromNow(120, 180);

beforeAll(() => {
  mkdirSync(policies, { mode: 0o700 });
  mkdirSync(join(data, 'dst'), { recursive: true });
  const base: PolicyInput = { root: data, log, access: 'read-only', window: [closed], timezone: 'UTC' };
  writePolicy(policies, base, 'nightly.json');
  writePolicy(policies, { ...base, enforce: false }, 'learning.json');
  writePolicy(policies, { ...base, from: ['192.0.2.0/24'] }, 'guarded.json');
  for (let i = 0; i < 3; i++) expect(runGate(policies, 'nightly', PULL).status).toBe(77);
  expect(runGate(policies, 'nightly', PUSH_DELETE).status).toBe(77);
  // Permissive: rsync runs (and, with no client on stdin, ends with a protocol error, not 77).
  expect(runGate(policies, 'learning', PULL).status).not.toBe(77);
  expect(runGate(policies, 'learning', PUSH_DELETE).status).not.toBe(77);
  expect(runGate(policies, 'guarded', PULL, { client: '198.51.100.7' }).status).toBe(77);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--summary', () => {
  it('counts outside-window refusals under their code', () => {
    const r = audit(['--log', log, '--summary', '--json', '--policy', 'nightly']);
    expect(r.status, r.stderr).toBe(0);
    const [group] = jsonLines(r.stdout);
    expect(group).toMatchObject({ policy: 'nightly', allowed: 0, refused: 4, reasons: [{ reason: 'outside-window', count: 4 }] });
    const text = audit(['--log', log, '--summary', '--policy', 'nightly']).stdout;
    expect(text).toMatch(/outside-window ×4/);
    expect(text).toMatch(/keeps being refused: outside-window ×4/);
  });

  it('a permissive policy: the sessions ran, the window is what they would have been refused for', () => {
    const [group] = jsonLines(audit(['--log', log, '--summary', '--json', '--policy', 'learning']).stdout);
    expect(group).toMatchObject({ allowed: 2, refused: 0, wouldDeny: 2 });
  });
});

describe('--suggest never widens a window', () => {
  it.each(['nightly', 'learning', 'guarded'])('policy %s: no window or timezone key, the sessions listed to look into', (name) => {
    const r = audit(['--log', log, '--suggest', '--policy', name], { policyDir: policies });
    expect(r.status, r.stderr).toBe(0);
    const keys = suggestedKeys(r.stdout);
    expect(keys).not.toContain('window');
    expect(keys).not.toContain('timezone');
    // Nothing else either: every command here was outside the window, so nothing it needs besides is suggested.
    expect(keys).toEqual([]);
    expect(r.stdout).toContain('Refusals to look into');
    expect(r.stdout).toMatch(new RegExp(`#\\s+outside this policy's backup window ${closed} \\(UTC\\)`));
    expect(r.stdout).not.toContain('Already allowed');
  });

  it("judges each command at the time of its last refusal, not at the audit's", async () => {
    // A window that holds the present, and a refusal logged three hours ago, outside it then.
    const open = rangeFromNow(-60, 60);
    writePolicy(policies, { root: data, log, window: [open], timezone: 'UTC' }, 'now-open.json');
    const t = Date.now() - 3 * 3600_000;
    const collector = new SuggestCollector();
    const reason = `outside this policy's backup window ${open} (UTC): it is now … there`;
    collector.add(rec({ time: new Date(t).toISOString(), event: 'deny', code: 'outside-window', policy: 'now-open', command: PULL, reason }), t);
    const [s] = await suggest(collector, { policyDir: policies });
    expect(s!.alreadyAllowed).toEqual([]);
    expect(s!.changes).toEqual([]);
    expect(s!.lookInto.map((l) => l.reason)).toEqual([expect.stringMatching(new RegExp(`^outside this policy's backup window ${open} \\(UTC\\): it is now .* there$`))]);
    expect(s!.suggested).toMatchObject({ window: [open], timezone: 'UTC' });
    expect(suggestedKeys(renderSuggestions([s!]))).toEqual([]);
  });
});

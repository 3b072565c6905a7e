// decide() with a backup window: "now" is a fact, so every case here is a
// fixed instant. Start inclusive, end exclusive, crossing midnight, the
// policy's zone, the `true` check at any hour, daemon and permissive policies.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import type { Facts } from '../../src/decide.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';
import { policy } from '../helpers/policy.js';

const session = (cmd: string | null, addr = '192.0.2.10'): Session => ({ originalCommand: cmd, client: { addr, port: 40000 }, server: null, user: 'root', userAuthFile: null });
const facts = (iso?: string): Facts => (iso === undefined ? { fs: realFs, confineRootSupported: false } : { fs: realFs, confineRootSupported: false, now: Date.parse(iso) });
const run = (cmd: string | null, input: PolicyInput, iso?: string, addr?: string) => evaluate(session(cmd, addr), policy(input), facts(iso));
const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

describe('inside or outside the window (UTC unless said)', () => {
  const table: [string, PolicyInput, string, boolean][] = [
    ['01:00-05:00 at its start (inclusive)', { window: ['01:00-05:00'], timezone: 'UTC' }, '2026-12-02T01:00:00Z', true],
    ['01:00-05:00 in the middle', { window: ['01:00-05:00'], timezone: 'UTC' }, '2026-12-02T03:17:42Z', true],
    ['01:00-05:00 in its last second', { window: ['01:00-05:00'], timezone: 'UTC' }, '2026-12-02T04:59:59.999Z', true],
    ['01:00-05:00 at its end (exclusive)', { window: ['01:00-05:00'], timezone: 'UTC' }, '2026-12-02T05:00:00Z', false],
    ['01:00-05:00 a second before it', { window: ['01:00-05:00'], timezone: 'UTC' }, '2026-12-02T00:59:59Z', false],
    ['01:00-05:00 at noon', { window: ['01:00-05:00'], timezone: 'UTC' }, '2026-12-02T12:00:00Z', false],
    ['22:00-06:00 (crosses midnight) at 22:00', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-02T22:00:00Z', true],
    ['22:00-06:00 before midnight', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-02T23:59:59Z', true],
    ['22:00-06:00 at midnight', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-03T00:00:00Z', true],
    ['22:00-06:00 at 05:59', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-03T05:59:00Z', true],
    ['22:00-06:00 at 06:00', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-03T06:00:00Z', false],
    ['22:00-06:00 at 21:59', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-02T21:59:59Z', false],
    ['22:00-06:00 at noon', { window: ['22:00-06:00'], timezone: 'UTC' }, '2026-12-02T12:00:00Z', false],
    ['20:00-24:00 at 23:59:59', { window: ['20:00-24:00'], timezone: 'UTC' }, '2026-12-02T23:59:59Z', true],
    ['20:00-24:00 at midnight', { window: ['20:00-24:00'], timezone: 'UTC' }, '2026-12-03T00:00:00Z', false],
    ['two windows, in the second', { window: ['01:00-02:00', '13:00-14:00'], timezone: 'UTC' }, '2026-12-02T13:30:00Z', true],
    ['two windows, between them', { window: ['01:00-02:00', '13:00-14:00'], timezone: 'UTC' }, '2026-12-02T02:30:00Z', false],
    // The same instants read in the policy's zone.
    ['01:00-05:00 Europe/Berlin at 00:30 UTC (01:30 there)', { window: ['01:00-05:00'], timezone: 'Europe/Berlin' }, '2026-12-02T00:30:00Z', true],
    ['01:00-05:00 Europe/Berlin at 04:30 UTC (05:30 there)', { window: ['01:00-05:00'], timezone: 'Europe/Berlin' }, '2026-12-02T04:30:00Z', false],
    ['01:00-05:00 America/New_York at 05:30 UTC (00:30 there)', { window: ['01:00-05:00'], timezone: 'America/New_York' }, '2026-12-02T05:30:00Z', false],
    ['01:00-05:00 America/New_York at 09:30 UTC (04:30 there)', { window: ['01:00-05:00'], timezone: 'America/New_York' }, '2026-12-02T09:30:00Z', true],
    ['Europe/Berlin, summer time: 01:00-05:00 at 23:30 UTC (01:30 CEST)', { window: ['01:00-05:00'], timezone: 'Europe/Berlin' }, '2026-07-01T23:30:00Z', true],
    ['Europe/Berlin, summer time: 01:00-05:00 at 03:30 UTC (05:30 CEST)', { window: ['01:00-05:00'], timezone: 'Europe/Berlin' }, '2026-07-02T03:30:00Z', false],
  ];
  it.each(table)('%s: inside %s', (_what, input, iso, inside) => {
    const d = run(PULL, input, iso);
    if (inside) expect(d).toMatchObject({ verdict: 'allow', waived: [] });
    else {
      expect(d).toMatchObject({ verdict: 'deny', code: 'outside-window' });
      expect(d.verdict === 'deny' && d.reason).toMatch(/^outside this policy's backup windows? .* \(.+\): it is now \d{4}-\d\d-\d\d \d\d:\d\d \(UTC[+-]\d\d:\d\d\) there$/);
    }
  });

  it('the reason names the windows, the zone and the time there', () => {
    const d = run(PULL, { window: ['22:00-06:00', '12:00-13:00'], timezone: 'Europe/Berlin' }, '2026-12-02T13:05:00Z');
    expect(d).toMatchObject({
      verdict: 'deny',
      code: 'outside-window',
      reason: "outside this policy's backup windows 22:00-06:00, 12:00-13:00 (Europe/Berlin): it is now 2026-12-02 14:05 (UTC+01:00) there",
    });
    // What would have run is kept, as for other refusals the policy could lift.
    expect(d.verdict === 'deny' && d.argv?.[0]).toBe('/usr/bin/rsync');
  });
});

describe('what the window does not change', () => {
  const outside: PolicyInput = { window: ['01:00-05:00'], timezone: 'UTC' };
  const noon = '2026-12-02T12:00:00Z';

  it('the connectivity check "true" stays allowed outside the window', () => {
    expect(run('true', outside, noon)).toMatchObject({ verdict: 'allow', argv: [], waived: [] });
    // ... unless the policy disables it, as without a window.
    expect(run('true', { ...outside, allowTrue: false }, noon)).toMatchObject({ verdict: 'deny', code: 'not-rsync' });
  });

  it('a policy without window decides the same at any time, and needs no time at all', () => {
    expect(run(PULL, {}, noon)).toMatchObject({ verdict: 'allow' });
    expect(run(PULL, {})).toMatchObject({ verdict: 'allow' });
  });

  it('a window with no time given refuses (fail closed) as a configuration error', () => {
    expect(run(PULL, outside)).toMatchObject({ verdict: 'deny', code: 'config', reason: expect.stringMatching(/no time was given/) });
  });

  it('a daemon policy keeps its window', () => {
    const d = run('rsync --server --daemon .', { ...outside, daemon: { config: '/etc/rsyncd.conf' } }, noon);
    expect(d).toMatchObject({ verdict: 'deny', code: 'outside-window' });
    expect(run('rsync --server --daemon .', { ...outside, daemon: { config: '/etc/rsyncd.conf' } }, '2026-12-02T02:00:00Z')).toMatchObject({ verdict: 'allow' });
  });

  it('a permissive policy (enforce: false) runs it and records the refusal it waived', () => {
    const d = run(PULL, { ...outside, enforce: false }, noon);
    expect(d).toMatchObject({ verdict: 'allow', reason: expect.stringMatching(/permissive/) });
    expect(d.verdict === 'allow' && d.waived.map((r) => r.code)).toEqual(['outside-window']);
  });

  it('other refusals are still named: a client outside "from" first, then the window', () => {
    const d = run(PULL, { ...outside, from: ['198.51.100.0/24'] }, noon, '203.0.113.9');
    expect(d).toMatchObject({ verdict: 'deny', code: 'from' });
    expect(d.verdict === 'deny' && d.reason).toMatch(/and 1 more: outside this policy's backup window 01:00-05:00/);
    // Inside the window, a read-only policy still refuses a push.
    expect(run('rsync --server -vlogDtpre.iLsfxCIvu . /tmp/', outside, '2026-12-02T02:00:00Z')).toMatchObject({ verdict: 'deny', code: 'access' });
  });

  it('malformed commands are refused for what they are, inside or outside the window', () => {
    expect(run(`${PULL}; id`, outside, noon)).toMatchObject({ verdict: 'deny', code: 'shell-syntax' });
    expect(run(null, outside, '2026-12-02T02:00:00Z')).toMatchObject({ verdict: 'deny', code: 'shell' });
  });
});

describe('a malformed window entry that got past the schema', () => {
  it('is refused at every hour (fail closed), not allowed', () => {
    // policy() applies the schema, which refuses "25:00-26:00": build the value past it.
    const p = { ...policy({ window: ['01:00-05:00'], timezone: 'UTC' }), window: ['25:00-26:00'] };
    for (const iso of ['2026-12-02T01:30:00Z', '2026-12-02T12:00:00Z', '2026-12-02T23:30:00Z']) {
      const d = evaluate(session(PULL), p, facts(iso));
      expect(d, iso).toMatchObject({ verdict: 'deny', code: 'outside-window' });
    }
  });
});

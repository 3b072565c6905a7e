// The pure parts of --metrics and --check: grouping, the look-back window,
// the exposition's escaping and layout, the plugin states and perfdata.
import { describe, expect, it } from 'vitest';
import { evaluateCheck, perfItem, perfLabel, pluginText, type CheckOptions } from '../../src/audit/views/check.js';
import { HealthCollector, MAX_GROUPS, OVERFLOW_CLIENT } from '../../src/audit/join/health.js';
import { escapeLabelValue, FAMILIES, renderMetrics } from '../../src/audit/views/metrics.js';
import { REFUSAL_CODES, refusalLabel } from '../../src/log/codes.js';
import { rec } from './helpers.js';

const HOUR = 3600e3;
const NOW = Date.parse('2026-12-02T12:00:00Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();

function collect(records: Parameters<typeof rec>[0][], lookbackMs = 24 * HOUR): HealthCollector {
  const h = new HealthCollector(NOW, lookbackMs);
  for (const f of records) {
    const r = rec(f);
    h.add(r, Date.parse(r.time));
  }
  return h;
}

const opts: CheckOptions = { now: NOW, staleMs: 26 * HOUR, historyMs: 30 * 24 * HOUR, lookbackMs: 24 * HOUR, refusalsWarning: 0, refusalsCritical: 10 };
const client = (addr: string) => ({ addr, port: 1 });

describe('HealthCollector', () => {
  it('counts within the window only; the last times from every record', () => {
    const [g] = collect([
      { time: at(30 * HOUR), event: 'allow' },
      { time: at(2 * HOUR), event: 'allow' },
      { time: at(25 * HOUR), event: 'deny', code: 'busy' },
      { time: at(HOUR), event: 'deny', code: 'busy' },
      { time: at(HOUR), event: 'deny', code: 'no-such-code' },
      { time: at(HOUR), event: 'error', code: 'config' },
      { time: at(90 * 60e3), event: 'exit', status: 0 },
      { time: at(30 * 60e3), event: 'exit', status: 23 },
    ]).result();
    expect(g!.recent).toEqual({ allowed: 1, refused: 2, failed: 2, refusedByCode: new Map([['busy', 1], ['other', 1]]) });
    expect(g!.lastAllowed).toBe(NOW - 2 * HOUR);
    expect(g!.lastRefused).toBe(NOW - HOUR);
    expect(g!.lastSuccess).toBe(NOW - 90 * 60e3);
    expect(g!.lastTransfer).toMatchObject({ t: NOW - 30 * 60e3, status: 23 });
  });

  it('groups by host, policy and client; past MAX_GROUPS new clients fold into one group', () => {
    const records = Array.from({ length: MAX_GROUPS + 5 }, (_, i) => ({ time: at(HOUR), event: 'deny' as const, code: 'from', client: client(`10.0.${i >> 8}.${i & 255}`) }));
    const groups = collect(records).result();
    expect(groups).toHaveLength(MAX_GROUPS + 1);
    expect(groups.find((g) => g.client === OVERFLOW_CLIENT)!.recent.refused).toBe(5);
    const hosts = collect([{ time: at(HOUR), hostname: 'b' }, { time: at(HOUR), hostname: 'a' }, { time: at(HOUR) }]).result();
    expect(hosts.map((g) => g.host)).toEqual(['', 'a', 'b']);
  });

  it('every code the gate writes is its own label; anything else is other', () => {
    for (const code of REFUSAL_CODES) expect(refusalLabel(code)).toBe(code);
    expect(refusalLabel('x"\n')).toBe('other');
    expect(refusalLabel(undefined)).toBe('other');
  });
});

describe('the exposition', () => {
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['\\"\n', '\\\\\\"\\n'],
  ])('label value %j → %j', (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
  });

  it('only families with samples; HELP and TYPE once before each; every sample with every label of its family', () => {
    const text = renderMetrics(collect([{ time: at(HOUR), event: 'deny', code: 'busy' }]).result(), { now: NOW, lookbackMs: 24 * HOUR, version: '9.9.9' });
    expect(text).not.toContain('gatekeeper_last_success_timestamp_seconds');
    expect(text).toContain('gatekeeper_build_info{version="9.9.9"} 1\n');
    expect(text).toContain(`gatekeeper_metrics_computed_timestamp_seconds ${NOW / 1000}\n`);
    expect(text).toContain(`gatekeeper_last_refused_timestamp_seconds{host="",policy="backup",client="198.51.100.7"} ${(NOW - HOUR) / 1000}\n`);
    expect(text).toContain('gatekeeper_refused_sessions_by_code{host="",policy="backup",client="198.51.100.7",code="busy"} 1\n');
    const lines = text.trimEnd().split('\n');
    for (const f of Object.values(FAMILIES)) {
      const at = lines.indexOf(`# HELP ${f.name} ${f.help}`);
      if (at === -1) continue;
      expect(lines[at + 1]).toBe(`# TYPE ${f.name} gauge`);
      for (const l of lines.filter((x) => x.startsWith(`${f.name}{`) || x.startsWith(`${f.name} `))) {
        expect([...l.matchAll(/([a-z]+)="/g)].map((m) => m[1])).toEqual([...f.labels]);
      }
    }
    for (const f of Object.values(FAMILIES)) expect(f.name).not.toMatch(/_total$/);
  });
});

describe('the check', () => {
  const state = (records: Parameters<typeof rec>[0][], o: Partial<CheckOptions> = {}) => evaluateCheck(collect(records).result(), { ...opts, ...o });

  it.each([
    ['a recent success', [{ time: at(HOUR), event: 'exit' as const, status: 0 }], 'ok'],
    ['a success older than --stale', [{ time: at(27 * HOUR), event: 'exit' as const, status: 0 }], 'critical'],
    ['status 24 counts as success', [{ time: at(HOUR), event: 'exit' as const, status: 24 }], 'ok'],
    ['older than --history and silent since: retired', [{ time: at(31 * 24 * HOUR), event: 'exit' as const, status: 0 }], 'ok'],
    [
      'older than --history but still connecting: stale',
      [
        { time: at(31 * 24 * HOUR), event: 'exit' as const, status: 0 },
        { time: at(HOUR), event: 'allow' as const },
        { time: at(HOUR), event: 'exit' as const, status: 12 },
      ],
      'critical',
    ],
    [
      'allowed, every run failed',
      [
        { time: at(HOUR), event: 'allow' as const },
        { time: at(HOUR), event: 'exit' as const, status: 23 },
      ],
      'warning',
    ],
    ['no outcome known: the last allowed session stands in', [{ time: at(HOUR), event: 'allow' as const }], 'ok'],
    ['one refusal: above the default warning of 0', [{ time: at(HOUR), event: 'deny' as const, code: 'busy' }], 'warning'],
  ])('%s', (_name, records, expected) => {
    const r = state(records);
    expect(r.state).toBe(expected);
    expect(r.text.startsWith(`GATEKEEPER ${({ ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' } as const)[r.state]} - `)).toBe(true);
  });

  it('without outcomes the last allowed session stands in, and the text says so', () => {
    const r = state([{ time: at(27 * HOUR), event: 'allow' }]);
    expect(r.state).toBe('critical');
    expect(r.text).toMatch(/^GATEKEEPER CRITICAL - 198\.51\.100\.7 \(policy backup\): no allowed session for 1d 3h \(whether runs finish is unknown: set transferLog in the policy\) \| /);
  });

  it('refusal thresholds: above N, not at N', () => {
    const three = Array.from({ length: 3 }, () => ({ time: at(HOUR), event: 'deny' as const, code: 'from' }));
    expect(state(three, { refusalsWarning: 3, refusalsCritical: 5 }).state).toBe('ok');
    expect(state(three, { refusalsWarning: 2, refusalsCritical: 5 }).state).toBe('warning');
    expect(state(three, { refusalsWarning: 1, refusalsCritical: 3 }).state).toBe('warning');
    expect(state(three, { refusalsWarning: 1, refusalsCritical: 2 }).state).toBe('critical');
  });

  it('the worst state wins whatever the order; past three problems the first line counts the rest and the details list all', () => {
    const records = [
      { time: at(HOUR), event: 'deny' as const, code: 'from', client: client('10.0.0.1') },
      { time: at(HOUR), event: 'deny' as const, code: 'from', client: client('10.0.0.2') },
      { time: at(HOUR), event: 'deny' as const, code: 'from', client: client('10.0.0.3') },
      { time: at(40 * HOUR), event: 'exit' as const, status: 0, client: client('10.0.0.0') },
    ];
    const r = state(records);
    expect(r.state).toBe('critical');
    const out = r.text.trimEnd().split('\n');
    expect(out[0]).toMatch(/^GATEKEEPER CRITICAL - 10\.0\.0\.0 \(policy backup\): no successful backup for 1d 16h; 10\.0\.0\.1 .*; and 1 more \| /);
    expect(out.slice(1)).toHaveLength(4);
  });

  it('perfdata: quoted labels, `=`, `|` replaced, `\'` doubled, trailing empty fields dropped', () => {
    expect(perfItem("a'b=c|d", 5, 's', null, 10, 0)).toBe("'a''b_c_d'=5s;;10;0");
    expect(perfItem('x', 1, '', null, null, null)).toBe("'x'=1");
    expect(perfLabel('a\nb')).toBe("'a\\x0ab'");
    expect(pluginText('a|b\u001b[2J')).toBe('a\\x7cb\\x1b[2J');
  });
});

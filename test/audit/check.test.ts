// `audit --check` on logs written by the real gate, with rsync's transfer log
// joined: the exit status and output of each plugin state, as a monitoring
// system runs it (a process; its first line and exit status are all it reads).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/policy.js';
import { audit, lines } from './helpers.js';
import { FAILING, GOOD, PROBER, writeGateLogs, type GateLogs } from './monitor-fixture.js';
import { CHECK_STATES } from '../../src/audit/views/check.js';

const dir = tempDir('gk-audit-check-');
let g: GateLogs;
beforeAll(() => {
  g = writeGateLogs(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3600e3;
const iso = (t: number) => new Date(t).toISOString();
const check = (args: string[]) => audit(['--log', g.log, '--transfer-log', g.transferLog, '--check', ...args]);
const hostPart = () => (g.host ? `, host ${g.host}` : '');

/**
 * The Monitoring Plugins guidelines' output: `SERVICE STATE - text`, then
 * optionally ` | ` and perfdata items `'label'=value[UOM];warn;crit;min;max`
 * separated by spaces. Returns the items, or throws.
 */
function pluginLine(stdout: string): { state: string; text: string; perf: { label: string; value: number; uom: string; warn: string; crit: string; min: string; max: string }[] } {
  const first = stdout.split('\n')[0]!;
  const m = /^GATEKEEPER (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*?)(?: \| (.*))?$/.exec(first);
  if (!m) throw new Error(`not a plugin line: ${first}`);
  const perf = [];
  const item = /'((?:[^'=]|'')+)'=(-?[\d.]+)(s|%|B|KB|MB|TB|c|us|ms)?(?:;([\d.]*)(?:;([\d.]*)(?:;([\d.]*)(?:;([\d.]*))?)?)?)?(?: |$)/y;
  const text = m[3] ?? '';
  while (item.lastIndex < text.length) {
    const start = item.lastIndex;
    const p = item.exec(text);
    if (!p) throw new Error(`bad perfdata at ${text.slice(start)}`);
    perf.push({ label: p[1]!.replace(/''/g, "'"), value: Number(p[2]), uom: p[3] ?? '', warn: p[4] ?? '', crit: p[5] ?? '', min: p[6] ?? '', max: p[7] ?? '' });
  }
  return { state: m[1]!, text: m[2]!, perf };
}

describe('audit --check on the real gate\'s logs', () => {
  it('OK: the client backed up an hour ago; its age is perfdata in seconds with the stale threshold as critical', () => {
    const r = check(['--client', GOOD, '--now', iso(g.goodAllowed + HOUR)]);
    expect(r.status).toBe(CHECK_STATES.ok.exit);
    const out = pluginLine(r.stdout);
    expect(out.state).toBe('OK');
    expect(out.text).toBe('1 client backed up within 26h, 0 refused in 24h');
    const age = out.perf.find((p) => p.label.endsWith(`backup/${GOOD} age`))!;
    expect(age.uom).toBe('s');
    // the run ended (transfer log, whole seconds) a moment after it was allowed
    expect(age.value).toBeGreaterThan(3600 - 120);
    expect(age.value).toBeLessThanOrEqual(3601);
    expect(age).toMatchObject({ warn: '', crit: String(26 * 3600), min: '0' });
    expect(r.stdout.split('\n')[1]).toMatch(new RegExp(`^${GOOD} \\(policy backup${hostPart()}\\): last successful backup (59m|1h) ago`));
  });

  it('CRITICAL: no successful backup for longer than --stale (3d 1h)', () => {
    const r = check(['--client', GOOD, '--now', iso(g.goodAllowed + 73 * HOUR + 30 * 60e3)]);
    expect(r.status).toBe(CHECK_STATES.critical.exit);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^GATEKEEPER CRITICAL - ${GOOD} \\(policy backup${hostPart()}\\): no successful backup for 3d 1h \\| `));
    // --stale moves the threshold
    expect(check(['--client', GOOD, '--now', iso(g.goodAllowed + 73 * HOUR + 30 * 60e3), '--stale', '4d']).status).toBe(CHECK_STATES.ok.exit);
  });

  it('a client silent for longer than --history (30d) is retired, not stale; a longer --history brings it back', () => {
    const now = iso(g.goodAllowed + 31 * 24 * HOUR);
    const r = check(['--client', GOOD, '--now', now]);
    expect(r.status).toBe(CHECK_STATES.ok.exit);
    expect(r.stdout).toMatch(/no client has backed up within 30d/);
    expect(check(['--client', GOOD, '--now', now, '--history', '60d']).status).toBe(CHECK_STATES.critical.exit);
  });

  it('WARNING: a client whose allowed run failed (rsync 23) has never finished a backup', () => {
    const r = check(['--client', FAILING, '--now', iso(g.goodAllowed + HOUR)]);
    expect(r.status).toBe(CHECK_STATES.warning.exit);
    expect(pluginLine(r.stdout).text).toBe(`${FAILING} (policy backup${hostPart()}): allowed, but no run has finished successfully`);
  });

  it('refusals in the look-back window against --refusals-warning and --refusals-critical', () => {
    const now = iso(g.lastRefused + HOUR);
    const base = ['--client', PROBER, '--now', now];
    const warn = check([...base, '--refusals-warning', '1', '--refusals-critical', '5']);
    expect(warn.status).toBe(CHECK_STATES.warning.exit);
    const out = pluginLine(warn.stdout);
    expect(out.text).toBe(`${PROBER} (policy backup${hostPart()}): 3 refused in 24h (not-rsync ×2, always-refused ×1)`);
    expect(out.perf).toEqual([{ label: `${g.host ? `${g.host}/` : ''}backup/${PROBER} refused`, value: 3, uom: '', warn: '1', crit: '5', min: '0', max: '' }]);
    expect(check([...base, '--refusals-warning', '1', '--refusals-critical', '2']).status).toBe(CHECK_STATES.critical.exit);
    expect(check([...base, '--refusals-warning', '3', '--refusals-critical', '5']).status).toBe(CHECK_STATES.ok.exit);
    // defaults: any refusal warns
    expect(check(base).status).toBe(CHECK_STATES.warning.exit);
    // a day later they are outside the window
    expect(check(['--client', PROBER, '--now', iso(g.lastRefused + 25 * HOUR)]).status).toBe(CHECK_STATES.ok.exit);
    expect(check(['--client', PROBER, '--now', iso(g.lastRefused + 25 * HOUR), '--lookback', '2d']).status).toBe(CHECK_STATES.warning.exit);
  });

  it('every client at once: the worst state wins, each problem is named', () => {
    const r = check(['--now', iso(g.goodAllowed + 73 * HOUR + 30 * 60e3), '--lookback', '4d']);
    expect(r.status).toBe(CHECK_STATES.critical.exit);
    const first = r.stdout.split('\n')[0]!;
    expect(first).toMatch(/^GATEKEEPER CRITICAL - 192\.0\.2\.20 .*no successful backup for 3d 1h; /);
    expect(first).toContain(`${FAILING} (policy backup${hostPart()}): allowed, but no run has finished successfully`);
    expect(first).toContain(`${PROBER} (policy backup${hostPart()}): 3 refused in 4d`);
  });
});

describe('UNKNOWN (exit 3, one plugin line on stdout)', () => {
  it.each([
    ['no readable log', ['--log', '/nonexistent/gatekeeper.log'], /^GATEKEEPER UNKNOWN - cannot read log \/nonexistent\/gatekeeper\.log: ENOENT$/],
    ['no records match', ['--client', '10.9.9.9'], /^GATEKEEPER UNKNOWN - no records match$/],
    ['a bad duration', ['--stale', 'soon'], /^GATEKEEPER UNKNOWN - --stale takes a duration/],
    ['a bad threshold', ['--refusals-warning', 'many'], /^GATEKEEPER UNKNOWN - --refusals-warning takes a whole number/],
    ["commander's own usage error", ['--no-such-option'], /^GATEKEEPER UNKNOWN - unknown option '--no-such-option'$/],
    ["commander's missing argument", ['--stale'], /^GATEKEEPER UNKNOWN - option '--stale <duration>' argument missing$/],
  ])('%s', (_name, args, first) => {
    const r = audit(['--log', g.log, '--check', ...args]);
    expect(r.status).toBe(CHECK_STATES.unknown.exit);
    expect(r.stdout.split('\n')[0]).toMatch(first);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('without --check, the same usage error is 64 (sysexits)', () => {
    expect(audit(['--log', g.log, '--no-such-option']).status).toBe(64);
  });
});

describe('text a client or a forwarded log chose', () => {
  it('can neither start the perfdata nor break a line: | and control characters are escaped', () => {
    const file = join(dir, 'hostile.log');
    const t = Date.parse('2026-11-30T12:00:00Z');
    writeFileSync(
      file,
      lines(
        { time: iso(t), event: 'deny', code: 'from', policy: "p|o'l=x", client: { addr: "203.0.113.5 | 'a'=1;2;3\nGATEKEEPER OK", port: 1 } },
        { time: iso(t + 1000), event: 'deny', code: 'made-up-code\u001b[31m', policy: 'backup', client: { addr: '203.0.113.6', port: 1 } },
      ),
    );
    const r = audit(['--log', file, '--check', '--now', iso(t + HOUR)]);
    expect(r.status).toBe(CHECK_STATES.warning.exit);
    const out = r.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(1); // no detail lines: both are problems on the first line
    expect(out[0]!.split('|')).toHaveLength(2); // the one `|` is ours
    expect(out[0]).toContain("203.0.113.5 \\x7c 'a'=1;2;3\\x0aGATEKEEPER OK (policy p\\x7co'l=x): 1 refused in 24h (from ×1)");
    // a code the gate never writes is counted as `other`, never echoed
    expect(out[0]).toContain('203.0.113.6 (policy backup): 1 refused in 24h (other ×1)');
    const perf = pluginLine(r.stdout).perf;
    expect(perf.map((p) => p.label)).toEqual(['backup/203.0.113.6 refused', "p_o'l_x/203.0.113.5 _ 'a'_1;2;3\\x0aGATEKEEPER OK refused"]);
  });
});

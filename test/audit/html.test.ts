// audit --html, judged by headless Chromium: a fixture fleet of three hosts
// (alpha healthy, beta failed on two nights, gamma stopped coming five nights
// ago) and one refusal whose command carries markup. The DOM Chromium built
// must have the rows worst first, one cell per night with the right state;
// the markup stays text and nothing runs; no request leaves the page (a
// loopback listener sees none, and, as a control, does see one when the CSP
// is taken out of the same page). The screenshot is kept under reports/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writePolicy } from '../helpers/policy.js';
import { all, chromium, listen, parseDom, textOf, type El } from '../helpers/chromium.js';
import { audit, line, rec, ROOT } from './helpers.js';
import { HtmlReport, MAX_ROWS } from '../../src/audit/views/html.js';

const dir = tempDir('gk-audit-html-');
const policies = join(dir, 'policies');
const log = join(dir, 'gatekeeper.log');
const NOW = '2026-12-07T08:00:00Z';
const DAYS = 30;
const REPORTS = join(ROOT, 'reports');
let port = 0;
let server: Awaited<ReturnType<typeof listen>>;

/** UTC time on the morning that ends the night `k` nights ago (k = 0: last night). */
const at = (k: number, hh: number, mm = 0) => new Date(Date.UTC(2026, 11, 7 - k, hh, mm)).toISOString();
const INJECT = () => `rsync --server -logDtpre.iLsfxCIvu --delete . /x<script>document.title='pwned'</script></style><img src="http://127.0.0.1:${port}/img" onerror="document.title='pwned'">`;

function fleetLog(): string {
  const out: string[] = [];
  let n = 0;
  const run = (host: string, client: string, k: number, status: number) => {
    const session = `${host}-${k}-${n++}`;
    const base = { hostname: host, session, client: { addr: client, port: 50000 }, policy: 'nightly', exec: 'spawn' as const };
    out.push(line({ ...base, time: at(k, 2), event: 'allow' }));
    out.push(line({ ...base, time: at(k, 2, 40), event: 'exit', status, reason: status === 0 ? 'rsync exited with status 0' : `rsync exited with status ${status}`, signal: null }));
  };
  for (let k = DAYS + 3; k >= 0; k--) {
    run('alpha', '198.51.100.1', k, 0);
    run('beta', '198.51.100.2', k, k === 0 || k === 5 ? 23 : 0);
    if (k >= 5) run('gamma', '198.51.100.3', k, 0);
    if (k === 2) {
      out.push(line({ hostname: 'alpha', time: at(k, 3), event: 'deny', policy: 'nightly', client: { addr: '203.0.113.9', port: 40000 }, command: INJECT(), code: 'delete-refused', options: ['--delete'], status: 77, reason: 'option --delete is refused: <b>it deletes</b> files; set `delete: true`' }));
      // The same client, a clean command: one that --suggest can let through (the injected one it cannot: "<" is a shell operator).
      out.push(line({ hostname: 'alpha', time: at(k, 3, 30), event: 'deny', policy: 'nightly', client: { addr: '203.0.113.9', port: 40001 }, command: 'rsync --server -logDtpre.iLsfxCIvu --delete . /x', code: 'delete-refused', options: ['--delete'], status: 77, reason: 'option --delete is refused: it deletes files on the receiving server' }));
    }
  }
  return out.join('\n') + '\n';
}

const report = join(dir, 'report.html');
let dom: El;

beforeAll(async () => {
  server = await listen();
  port = server.port;
  mkdirSync(policies, { mode: 0o700 });
  mkdirSync(join(dir, 'data'));
  writePolicy(policies, { root: join(dir, 'data'), log, access: 'read-only', window: ['01:00-05:00'], timezone: 'UTC' }, 'nightly.json');
  writeFileSync(log, fleetLog());
  const r = audit(['--log', log, '--html', report, '--now', NOW, '--days', String(DAYS)], { policyDir: policies });
  expect(r.status, r.stderr).toBe(0);
  const d = await chromium(report, ['--dump-dom']);
  expect(d.status, d.stderr).toBe(0);
  dom = parseDom(d.stdout);
}, 120_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const rowsOf = (root: El) => all(root, (e) => e.tag === 'tr' && e.attrs['data-host'] !== undefined);
const statesOf = (tr: El) => all(tr, (e) => e.tag === 'td' && e.attrs['data-state'] !== undefined).map((td) => td.attrs['data-state']);

describe('audit --html in Chromium', () => {
  it('one row per host × policy × client, worst first, one cell per night with its state', () => {
    const rows = rowsOf(dom);
    expect(rows.map((r) => `${r.attrs['data-host']} ${r.attrs['data-client']}`)).toEqual(['beta 198.51.100.2', 'gamma 198.51.100.3', 'alpha 203.0.113.9', 'alpha 198.51.100.1']);
    const [beta, gamma, refuser, alpha] = rows.map(statesOf);
    // Oldest night first, last night last.
    const nights = (f: (k: number) => string) => Array.from({ length: DAYS }, (_, i) => f(DAYS - 1 - i));
    expect(alpha).toEqual(nights(() => 'completed'));
    expect(beta).toEqual(nights((k) => (k === 0 || k === 5 ? 'failed' : 'completed')));
    expect(gamma).toEqual(nights((k) => (k < 5 ? 'nothing' : 'completed')));
    expect(refuser).toEqual(nights((k) => (k === 2 ? 'refused' : 'nothing')));
    // Each cell: a symbol beside the colour, and a focusable text alternative with time, duration and outcome.
    const cell = all(rows[0]!, (e) => e.tag === 'span' && e.attrs.tabindex === '0').at(-1)!;
    expect(textOf(cell)).toBe('✗');
    expect(cell.attrs['aria-label']).toBe('night ending 2026-12-07: failed · 02:00–02:40, took 40m (UTC) · rsync exit 23: rsync exited with status 23 · sessions: 1 failed');
  });

  it('the fleet line: hosts, clients, backed up within --stale, failed and refused last night', () => {
    const fleet = all(dom, (e) => e.attrs.id === 'fleet')[0]!;
    expect(textOf(fleet)).toBe('3 hosts, 4 clients, 4 rows (host × policy × client) · 1 of 3 backed up within 1d 2h · last night 1 failed, 0 refused');
  });

  it('markup in records stays text; nothing ran; no request left the page', () => {
    expect(all(dom, (e) => e.tag === 'script' || e.tag === 'img')).toEqual([]);
    expect(all(dom, (e) => e.tag === 'style')).toHaveLength(1);
    expect(textOf(all(dom, (e) => e.tag === 'title')[0]!)).toBe('gatekeeper backups');
    const refusals = all(dom, (e) => e.tag === 'table' && e.attrs.class === 'refusals')[0]!;
    const text = textOf(refusals);
    expect(text).toContain(`/x<script>document.title='pwned'</script></style><img src="http://127.0.0.1:${port}/img" onerror="document.title='pwned'">`);
    expect(text).toContain('option --delete is refused: <b>it deletes</b> files');
    // What --suggest would change, from its own code: the clean command needs these keys.
    const cells = all(all(refusals, (e) => e.tag === 'tbody')[0]!, (e) => e.tag === 'td');
    expect(textOf(cells.at(-1)!)).toBe('access: read-write; delete: true');
    expect(server.hits).toEqual([]);
  });

  it('the CSP forbids every load: markup slipped in raw loads nothing and runs nothing (and does, without the CSP)', async () => {
    const html = readFileSync(report, 'utf8');
    const evil = `<img src="http://127.0.0.1:${port}/raw" onerror="document.title='pwned'"><link rel="stylesheet" href="http://127.0.0.1:${port}/css">`;
    const slipped = join(dir, 'slipped.html');
    writeFileSync(slipped, html.replace('<body>', `<body>${evil}`));
    const a = await chromium(slipped, ['--dump-dom']);
    expect(textOf(all(parseDom(a.stdout), (e) => e.tag === 'title')[0]!)).toBe('gatekeeper backups');
    // Chromium's console, on stderr: each load and the handler blocked by the CSP.
    expect(a.stderr).toContain(`Loading the image 'http://127.0.0.1:${port}/raw' violates the following Content Security Policy directive`);
    expect(a.stderr).toContain(`Loading the stylesheet 'http://127.0.0.1:${port}/css' violates the following Content Security Policy directive`);
    expect(a.stderr).toContain('Executing inline event handler violates the following Content Security Policy directive');
    expect(server.hits).toEqual([]);
    // The control: the same page without its CSP does reach the listener and run the handler.
    const open = join(dir, 'open.html');
    writeFileSync(open, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('<body>', `<body>${evil}`));
    const b = await chromium(open, ['--dump-dom']);
    expect(textOf(all(parseDom(b.stdout), (e) => e.tag === 'title')[0]!)).toBe('pwned');
    expect(server.hits.length).toBeGreaterThan(0);
    server.hits.length = 0;
  }, 120_000);

  it('a screenshot, kept under reports/, and a PDF on A4 landscape', async () => {
    mkdirSync(REPORTS, { recursive: true });
    const png = join(REPORTS, 'audit-html.png');
    const shot = await chromium(report, [`--screenshot=${png}`, '--window-size=1400,700', '--hide-scrollbars']);
    expect(shot.status, shot.stderr).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    console.log(`screenshot: ${png}`);
    const pdf = join(REPORTS, 'audit-html.pdf');
    const print = await chromium(report, [`--print-to-pdf=${pdf}`, '--no-pdf-header-footer']);
    expect(print.status, print.stderr).toBe(0);
    // A4 landscape is 842 × 595 points.
    expect(readFileSync(pdf, 'latin1').match(/\/MediaBox \[[^\]]*\]/)?.[0]).toMatch(/^\/MediaBox \[0 0 84[12](\.\d+)? 59[45](\.\d+)?\]$/);
  }, 120_000);

  it('tidy, the HTML validator Debian ships, finds nothing to say', () => {
    const r = spawnSync('/usr/bin/tidy', ['-q', '-e', '--drop-empty-elements', 'no', report], { encoding: 'utf8' });
    expect({ status: r.status, output: r.stderr }).toEqual({ status: 0, output: '' });
  });
});

describe('audit --html on the command line', () => {
  it('"-" writes the page to stdout; --days without --html, --days 0 and --html with --json or --summary are usage errors (64); an unwritable FILE is 73', () => {
    const out = audit(['--log', log, '--html', '-', '--now', NOW, '--days', '3'], { policyDir: policies });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^<!DOCTYPE html>\n/);
    expect(out.stdout.match(/<td class="n /g)).toHaveLength(4 * 3);
    for (const args of [['--days', '3'], ['--html', '-', '--days', '0'], ['--html', '-', '--json'], ['--html', '-', '--summary']]) {
      expect(audit(['--log', log, ...args], { policyDir: policies }).status).toBe(64);
    }
    const bad = audit(['--log', log, '--html', join(dir, 'missing', 'r.html')], { policyDir: policies });
    expect(bad.status).toBe(73);
    expect(bad.stderr).toContain('cannot write');
  });
});

describe('HtmlReport', () => {
  it(`shows the ${MAX_ROWS} worst rows and names how many more were left out; the fleet line counts them all`, async () => {
    const now = Date.parse(NOW);
    const view = new HtmlReport({ now, days: 2, policies: new Map(), keys: { problem: 'none here' } });
    for (let i = 0; i <= MAX_ROWS; i++) {
      const r = rec({ time: new Date(now - 3600e3).toISOString(), event: 'deny', client: { addr: `10.0.${i >> 8}.${i & 255}`, port: 1 }, code: 'not-rsync', reason: 'not rsync' });
      view.add(r, Date.parse(r.time));
    }
    const page = await view.finish({ now, staleMs: 26 * 3600e3, lookbackMs: 24 * 3600e3, paint: (_s, t) => t, json: false });
    expect(page.match(/<tr data-host=/g)).toHaveLength(MAX_ROWS);
    expect(page).toContain(`The ${MAX_ROWS} worst rows are shown; 1 more, all better off, are left out`);
    expect(page).toContain(`${MAX_ROWS + 1} rows (host × policy × client)`);
  });
});

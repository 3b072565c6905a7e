// `audit --metrics` on logs written by the real gate (transfer log joined),
// judged by the tools that read it: promtool check metrics, and Debian's
// prometheus-node-exporter serving the file through its textfile collector,
// scraped over HTTP.
import { parseRecordLine } from '../../src/log/record.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/sshd.mjs';
import { tempDir } from '../helpers/policy.js';
import { audit, lines } from './helpers.js';
import { FAILING, GOOD, PROBER, writeGateLogs, type GateLogs } from './monitor-fixture.js';
import { FAMILIES } from '../../src/audit/views/metrics.js';
import { VERSION } from '../../src/version.js';
import { waitUntil } from '../helpers/wait.js';

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const PROMTOOL = '/usr/bin/promtool';
const HOUR = 3600e3;
const iso = (t: number) => new Date(t).toISOString();

const dir = tempDir('gk-audit-metrics-');
let g: GateLogs;
let hostile: string;
let now: number;
beforeAll(() => {
  g = writeGateLogs(dir);
  now = g.lastRefused + HOUR;
  hostile = join(dir, 'hostile.log');
  // Text a client or a forwarded log chose, in every label: quotes, backslashes, a line feed, non-ASCII.
  writeFileSync(
    hostile,
    lines({ time: iso(now - 60e3), event: 'deny', code: 'invented\n', policy: 'p"\\o', hostname: 'h\nx{y}', client: { addr: '203.0.113.5"} 1\nevil_metric 1 #ü', port: 1 } }),
  );
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of an exposition: `name{a="b",…} value`, label values unescaped. */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
    const body = m[2] ?? '';
    while (re.lastIndex < body.length) {
      const l = re.exec(body);
      if (!l) throw new Error(`bad labels: ${body}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const pick = (samples: Sample[], name: string, labels: Record<string, string>) => {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
};

/** What the log itself says, checked against any exposition of it (ours, or node_exporter's). */
function expectValuesOfTheLog(samples: Sample[]): void {
  const records = readFileSync(g.log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseRecordLine(l)!);
  const group = (client: string) => ({ host: g.host, policy: 'backup', client });
  const lastOf = (event: string, client: string) => Math.max(...records.filter((r) => r.event === event && r.client?.addr === client).map((r) => Date.parse(r.time))) / 1000;
  expect(pick(samples, 'gatekeeper_build_info', {})).toBe(1);
  expect(samples.find((s) => s.name === 'gatekeeper_build_info')!.labels).toEqual({ version: VERSION });
  expect(pick(samples, 'gatekeeper_metrics_computed_timestamp_seconds', {})).toBe(now / 1000);
  expect(pick(samples, 'gatekeeper_lookback_seconds', {})).toBe(86400);
  expect(pick(samples, 'gatekeeper_last_allowed_timestamp_seconds', group(GOOD))).toBe(lastOf('allow', GOOD));
  expect(pick(samples, 'gatekeeper_last_refused_timestamp_seconds', group(PROBER))).toBe(lastOf('deny', PROBER));
  // The run ended (rsync's log, whole seconds) within a minute of being allowed.
  const success = pick(samples, 'gatekeeper_last_success_timestamp_seconds', group(GOOD));
  expect(success).toBeGreaterThanOrEqual(Math.floor(lastOf('allow', GOOD)) - 1);
  expect(success).toBeLessThan(lastOf('allow', GOOD) + 60);
  expect(pick(samples, 'gatekeeper_last_transfer_timestamp_seconds', group(GOOD))).toBe(success);
  expect(pick(samples, 'gatekeeper_last_transfer_exit_status', group(GOOD))).toBe(0);
  expect(pick(samples, 'gatekeeper_last_transfer_sent_bytes', group(GOOD))).toBe(g.goodSent);
  expect(pick(samples, 'gatekeeper_last_transfer_received_bytes', group(GOOD))).toBeGreaterThan(0);
  expect(pick(samples, 'gatekeeper_last_transfer_exit_status', group(FAILING))).toBe(23);
  expect(() => pick(samples, 'gatekeeper_last_success_timestamp_seconds', group(FAILING))).toThrow(/0 samples/);
  expect(pick(samples, 'gatekeeper_allowed_sessions', group(GOOD))).toBe(1);
  expect(pick(samples, 'gatekeeper_allowed_sessions', group(FAILING))).toBe(1);
  expect(pick(samples, 'gatekeeper_failed_sessions', group(FAILING))).toBe(1);
  expect(pick(samples, 'gatekeeper_failed_sessions', group(GOOD))).toBe(0);
  expect(pick(samples, 'gatekeeper_refused_sessions', group(PROBER))).toBe(3);
  expect(pick(samples, 'gatekeeper_refused_sessions_by_code', { ...group(PROBER), code: 'not-rsync' })).toBe(2);
  expect(pick(samples, 'gatekeeper_refused_sessions_by_code', { ...group(PROBER), code: 'always-refused' })).toBe(1);
}

function promtool(file: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: readFileSync(file), encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('audit --metrics', () => {
  it('the values are the log\'s, and promtool check metrics reports nothing', () => {
    const file = join(dir, 'out.prom');
    const r = audit(['--log', g.log, '--transfer-log', g.transferLog, '--metrics', '--now', iso(now), '--output', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([]);
    const text = readFileSync(file, 'utf8');
    expectValuesOfTheLog(parseExposition(text));
    expect(promtool(file)).toEqual({ status: 0, output: '' });
    // every family has HELP and TYPE, and only the names defined once in FAMILIES appear
    const names = new Set(parseExposition(text).map((s) => s.name));
    for (const name of names) {
      expect(Object.values(FAMILIES).map((f) => f.name)).toContain(name);
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} gauge\n`);
    }
  });

  it('the look-back window: a day later the counts are 0, the timestamps stay', () => {
    const r = audit(['--log', g.log, '--transfer-log', g.transferLog, '--metrics', '--now', iso(now + 25 * HOUR)]);
    const samples = parseExposition(r.stdout);
    const group = { host: g.host, policy: 'backup', client: PROBER };
    expect(pick(samples, 'gatekeeper_refused_sessions', group)).toBe(0);
    expect(samples.filter((s) => s.name === 'gatekeeper_refused_sessions_by_code')).toEqual([]);
    expect(pick(samples, 'gatekeeper_last_refused_timestamp_seconds', group)).toBeGreaterThan(0);
    const wider = parseExposition(audit(['--log', g.log, '--metrics', '--now', iso(now + 25 * HOUR), '--lookback', '2d']).stdout);
    expect(pick(wider, 'gatekeeper_refused_sessions', group)).toBe(3);
    expect(pick(wider, 'gatekeeper_lookback_seconds', {})).toBe(2 * 86400);
  });

  it('the usual filters apply', () => {
    const samples = parseExposition(audit(['--log', g.log, '--transfer-log', g.transferLog, '--metrics', '--client', PROBER]).stdout);
    expect(new Set(samples.filter((s) => s.labels.client !== undefined).map((s) => s.labels.client))).toEqual(new Set([PROBER]));
  });

  it('text a client or a forwarded log chose is escaped in label values; an unknown code is `other`; promtool accepts it', () => {
    const file = join(dir, 'hostile.prom');
    const r = audit(['--log', hostile, '--metrics', '--now', iso(now), '--output', file]);
    expect(r.status).toBe(0);
    expect(promtool(file)).toEqual({ status: 0, output: '' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/^evil_metric/m);
    const samples = parseExposition(text);
    const labels = { host: 'h\nx{y}', policy: 'p"\\o', client: '203.0.113.5"} 1\nevil_metric 1 #ü' };
    expect(pick(samples, 'gatekeeper_refused_sessions_by_code', { ...labels, code: 'other' })).toBe(1);
  });

  it('--output replaces the file atomically and says so when it cannot (73)', () => {
    const file = join(dir, 'atomic.prom');
    writeFileSync(file, 'old\n', { mode: 0o600 });
    expect(audit(['--log', g.log, '--metrics', '--output', file]).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# HELP gatekeeper_build_info/);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const r = audit(['--log', g.log, '--metrics', '--output', join(dir, 'no-such-dir', 'x.prom')]);
    expect(r.status).toBe(73);
    expect(r.stderr).toMatch(/cannot write .*no-such-dir\/x\.prom: ENOENT/);
  });

  it('usage: --output without --metrics, --metrics with --json or --summary', () => {
    expect(audit(['--log', g.log, '--output', join(dir, 'x.prom')]).status).toBe(64);
    expect(audit(['--log', g.log, '--metrics', '--json']).status).toBe(64);
    expect(audit(['--log', g.log, '--metrics', '--summary']).status).toBe(64);
    expect(audit(['--log', g.log, '--metrics', '--lookback', 'a day']).status).toBe(64);
  });
});

describe('docs/audit.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'audit.md'), 'utf8');
  it('names every metric family, and its alerting rules pass promtool check rules and use only real metrics', () => {
    for (const f of Object.values(FAMILIES)) expect(doc).toContain(f.name.replace(/^gatekeeper_last_transfer_(exit_status|sent_bytes|received_bytes)$/, '…_$1'));
    const rules = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const file = join(dir, 'rules.yml');
    writeFileSync(file, rules);
    const r = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const used = new Set(rules.match(/gatekeeper_[a-z_]+/g));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(Object.values(FAMILIES).map((f) => f.name)).toContain(name);
  });
});

describe('node_exporter serves the file (textfile collector, scraped over HTTP)', () => {
  let exporter: ChildProcess | null = null;
  let port = 0;
  const textDir = join(dir, 'textfile');
  let stderr = '';

  beforeAll(async () => {
    mkdirSync(textDir, { recursive: true });
    const r = audit(['--log', g.log, '--log', hostile, '--transfer-log', g.transferLog, '--metrics', '--now', iso(now), '--output', join(textDir, 'gatekeeper.prom')]);
    expect(r.status).toBe(0);
    // The port can be taken between freePort() and node_exporter's bind
    // (other tests start daemons too): then it exits saying so, and another is tried.
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      stderr = '';
      const p = spawn(NODE_EXPORTER, ['--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${textDir}`, `--web.listen-address=127.0.0.1:${port}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      exporter = p;
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', (e) => (stderr += `cannot start ${NODE_EXPORTER}: ${e.message}`));
      // Listening (its own log says so), or gone.
      await waitUntil(() => /Listening on.*127\.0\.0\.1:\d+/i.test(stderr) || p.exitCode !== null || p.signalCode !== null);
      if (p.exitCode === null && p.signalCode === null) break;
      await new Promise((done) => p.once('close', done));
      if (attempt >= 3 || !/address already in use/i.test(stderr)) throw new Error(`node_exporter exited: ${stderr}`);
    }
  }, 120_000);
  afterAll(async () => {
    if (exporter?.pid && exporter.exitCode === null) {
      const exited = new Promise((resolve) => exporter!.once('exit', resolve));
      process.kill(exporter.pid, 'SIGTERM');
      await exited;
    }
  });

  async function scrape(): Promise<string> {
    if (exporter?.exitCode !== null || exporter.pid === undefined) throw new Error(`node_exporter is not running: ${stderr}`);
    // It said it listens (beforeAll): the first request is answered.
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.ok, `node_exporter answered ${res.status}: ${stderr}`).toBe(true);
    return await res.text();
  }

  it('serves the log\'s values, escaped labels intact, and node_textfile_scrape_error is 0', async () => {
    const text = await scrape();
    const samples = parseExposition(text);
    expect(pick(samples, 'node_textfile_scrape_error', {})).toBe(0);
    expect(samples.some((s) => s.name === 'node_textfile_mtime_seconds' && s.labels.file?.endsWith('gatekeeper.prom'))).toBe(true);
    expectValuesOfTheLog(samples);
    const labels = { host: 'h\nx{y}', policy: 'p"\\o', client: '203.0.113.5"} 1\nevil_metric 1 #ü' };
    expect(pick(samples, 'gatekeeper_refused_sessions_by_code', { ...labels, code: 'other' })).toBe(1);
    expect(samples.some((s) => s.name === 'evil_metric')).toBe(false);
  }, 120_000);
});

// audit and the record's `cert` field: the fast reader agrees with the schema
// on it, --key-id filters by it, the table names it, --summary groups by it,
// the transfer join keeps it, and the metrics have a bounded key_id label.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkRecord } from '../../src/audit/read/parse.js';
import { buildFilter, keyIdMatcher } from '../../src/audit/filter.js';
import { tableRow, paint } from '../../src/audit/views/format.js';
import { renderSummary, Summary, summaryJson } from '../../src/audit/views/summary.js';
import { HealthCollector, MAX_KEY_IDS, OVERFLOW_KEY_ID } from '../../src/audit/join/health.js';
import { renderMetrics } from '../../src/audit/views/metrics.js';
import { parseTransferLine, TransferJoiner } from '../../src/audit/join/transfer.js';
import { RecordLineSchema, RecordLineV1Schema, type CertRecord } from '../../src/log/record.js';
import { rec } from './helpers.js';

const CERT: CertRecord = {
  keyId: 'backup@web-1',
  serial: '101',
  principals: ['backup'],
  ca: 'ssh-ed25519 SHA256:t2STci70ck/vO1eTMXbgG/2U6nq6ZWom4yUNo7nN0n8',
  validAfter: '2026-01-01T00:00:00.000Z',
  validBefore: null,
  criticalOptions: { 'source-address': '10.0.0.0/8' },
  extensions: ['permit-pty'],
};
const NOW = Date.parse('2026-12-02T12:00:00Z');
const T = '2026-12-02T11:00:00.000Z';

describe('checkRecord agrees with the record schemas on the cert field', () => {
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.string(),
    fc.integer(),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 2 }),
  );
  const keys = [...Object.keys(CERT), 'extra'];
  const base = rec({ time: T, cert: CERT });
  const eitherSchema = (value: unknown) => RecordLineV1Schema.safeParse(value).success || RecordLineSchema.safeParse(value).success;

  it('with any of its fields replaced, removed or added', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...keys), junk), { maxLength: 3 }), (edits) => {
        const value = structuredClone(base) as Record<string, unknown>;
        const cert = value.cert as Record<string, unknown>;
        for (const [k, v] of edits) {
          if (v === undefined) delete cert[k];
          else cert[k] = v;
        }
        expect(typeof checkRecord(value) !== 'string').toBe(eitherSchema(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('the whole field replaced', () => {
    fc.assert(
      fc.property(junk, (v) => {
        const value = structuredClone(base) as Record<string, unknown>;
        value.cert = v;
        if (v === undefined) delete value.cert;
        expect(typeof checkRecord(value) !== 'string').toBe(eitherSchema(value));
      }),
    );
    expect(checkRecord(structuredClone(base))).toMatchObject({ cert: CERT });
  });
});

describe('--key-id', () => {
  it('shell wildcards over the whole key ID, case-sensitive; "-" is a session without a certificate', () => {
    const m = keyIdMatcher(['backup@*']);
    expect(m('backup@web-1')).toBe(true);
    expect(m('Backup@web-1')).toBe(false);
    expect(m('xbackup@web-1')).toBe(false);
    expect(m(undefined)).toBe(false);
    expect(keyIdMatcher(['web-?'])('web-1')).toBe(true);
    expect(keyIdMatcher(['web-[12]'])('web-3')).toBe(false);
    expect(keyIdMatcher(['-'])(undefined)).toBe(true);
    expect(keyIdMatcher(['-'])('-')).toBe(true);
    expect(keyIdMatcher(['a.b'])('axb')).toBe(false);
  });

  it('buildFilter lets through only the records whose certificate matches', () => {
    const f = buildFilter({ keyId: ['backup@*'] }, NOW);
    const t = Date.parse(T);
    expect(f.test(rec({ time: T, cert: CERT }), t)).toBe(true);
    expect(f.test(rec({ time: T, cert: { ...CERT, keyId: 'restore@db-2' } }), t)).toBe(false);
    expect(f.test(rec({ time: T, key: 'ssh-ed25519 SHA256:x' }), t)).toBe(false);
    expect(buildFilter({ keyId: ['-'] }, NOW).test(rec({ time: T }), t)).toBe(true);
    expect(buildFilter({ grep: 'WEB-1' }, NOW).test(rec({ time: T, cert: CERT }), t)).toBe(true);
  });
});

describe('the table', () => {
  it('names the key ID before the command, escaped; a plain key\'s row is unmarked', () => {
    const p = paint(false);
    expect(tableRow(rec({ time: T, cert: CERT }), Date.parse(T), p)).toContain('allow     [cert backup@web-1] pull / -vlogDtprxze');
    expect(tableRow(rec({ time: T, cert: { ...CERT, keyId: 'evil\x1b[2J' } }), Date.parse(T), p)).toContain('[cert evil\\x1b[2J]');
    expect(tableRow(rec({ time: T }), Date.parse(T), p)).not.toContain('[cert');
  });
});

describe('--summary', () => {
  const s = new Summary();
  for (const r of [
    rec({ time: T, cert: CERT }),
    rec({ time: T, cert: CERT }),
    rec({ time: T, cert: { ...CERT, keyId: 'restore@db-2' } }),
    rec({ time: T, event: 'deny', code: 'busy', reason: 'busy', cert: { ...CERT, keyId: 'restore@db-2' } }),
    rec({ time: T }),
  ])
    s.add(r, Date.parse(r.time));
  const groups = s.result();

  it('one group per key ID of the same policy and client, plain keys first', () => {
    expect(groups.map((g) => [g.keyId, g.allowed, g.refused])).toEqual([
      [null, 1, 0],
      ['backup@web-1', 2, 0],
      ['restore@db-2', 1, 1],
    ]);
    expect(JSON.parse(summaryJson(groups[1]!))).toMatchObject({ policy: 'backup', client: '198.51.100.7', keyId: 'backup@web-1', allowed: 2 });
    expect(JSON.parse(summaryJson(groups[0]!)).keyId).toBeNull();
  });

  it('a KEY ID column when a certificate came, none when none did', () => {
    const text = renderSummary(groups, { now: NOW, staleMs: 26 * 3600e3, paint: paint(false) });
    const [head, ...rows] = text.split('\n');
    expect(head).toMatch(/^POLICY\s+CLIENT\s+KEY ID\s+ALLOWED/);
    expect(rows[1]).toMatch(/^backup\s+198\.51\.100\.7\s+backup@web-1\s+2\s/);
    expect(rows[0]).toMatch(/^backup\s+198\.51\.100\.7\s+-\s+1\s/);
    const plain = new Summary();
    plain.add(rec({ time: T }), Date.parse(T));
    expect(renderSummary(plain.result(), { now: NOW, staleMs: 26 * 3600e3, paint: paint(false) })).not.toContain('KEY ID');
  });
});

describe('the transfer join', () => {
  it('keeps the allow record\'s certificate on the exit record it completes', () => {
    const j = new TransferJoiner();
    const t = Date.parse(T);
    const allow = rec({ time: T, cert: CERT, pid: 4242, transferLog: '/var/log/t' });
    j.onRecord(allow, t);
    const lines = [
      '2026/12/02 11:00:00 [4242] building file list',
      '2026/12/02 11:00:01 [4242] sent 1,024 bytes  received 42 bytes  total size 9',
    ];
    const out = lines.flatMap((l) => j.onLine(parseTransferLine(l)!));
    const done = [...out, ...j.flushAll()];
    expect(done.length).toBe(1);
    expect(done[0]).toMatchObject({ event: 'exit', cert: CERT });
  });
});

describe('--metrics: the key_id label', () => {
  const at = (h: number) => new Date(NOW - h * 3600e3).toISOString();
  it('sessions with a certificate by host, policy and key ID; capped; promtool check metrics accepts it', () => {
    const h = new HealthCollector(NOW, 24 * 3600e3);
    const add = (f: Parameters<typeof rec>[0]) => {
      const r = rec(f);
      h.add(r, Date.parse(r.time));
    };
    add({ time: at(2), cert: CERT });
    add({ time: at(1), cert: CERT, hostname: 'srv1' });
    add({ time: at(30), cert: CERT });
    add({ time: at(1), event: 'exit', status: 0, cert: CERT });
    add({ time: at(1), event: 'deny', code: 'busy', cert: { ...CERT, keyId: 'restore "db"\n2' } });
    add({ time: at(1) }); // a plain key: no certificate series
    const certs = h.certificates();
    expect(certs.map((c) => [c.host, c.keyId, c.recent.allowed, c.recent.refused])).toEqual([
      ['', 'backup@web-1', 1, 0],
      ['', 'restore "db"\n2', 0, 1],
      ['srv1', 'backup@web-1', 1, 0],
    ]);
    expect(certs[0]!.lastSuccess).toBe(NOW - 3600e3);
    const text = renderMetrics(h.result(), { now: NOW, lookbackMs: 24 * 3600e3, version: '0.0.0' }, certs);
    expect(text).toContain('gatekeeper_certificate_allowed_sessions{host="",policy="backup",key_id="backup@web-1"} 1');
    expect(text).toContain('gatekeeper_certificate_refused_sessions{host="",policy="backup",key_id="restore \\"db\\"\\n2"} 1');
    expect(text).toContain(`gatekeeper_certificate_last_success_timestamp_seconds{host="",policy="backup",key_id="backup@web-1"} ${(NOW - 3600e3) / 1000}`);
    // The client families keep their labels: no key_id there.
    expect(text).toMatch(/^gatekeeper_allowed_sessions\{host="",policy="backup",client="198\.51\.100\.7"\} 2$/m);
    const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it(`at most ${MAX_KEY_IDS} key IDs; the rest count as key_id="${OVERFLOW_KEY_ID}"`, () => {
    const h = new HealthCollector(NOW, 24 * 3600e3);
    for (let i = 0; i < MAX_KEY_IDS + 50; i++) {
      const r = rec({ time: at(1), cert: { ...CERT, keyId: `host-${i}` } });
      h.add(r, Date.parse(r.time));
    }
    const certs = h.certificates();
    expect(certs.length).toBe(MAX_KEY_IDS + 1);
    expect(certs.find((c) => c.keyId === OVERFLOW_KEY_ID)!.recent.allowed).toBe(50);
  });
});

describe('--html: the certificates that came', () => {
  it('one row per CA and key ID with its latest serial, sessions and last use; markup in a key ID stays text; tidy finds nothing', async () => {
    const { HtmlReport } = await import('../../src/audit/views/html.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const view = new HtmlReport({ now: NOW, days: 2, policies: new Map(), keys: { problem: 'none here' } });
    for (const f of [
      { time: '2026-12-02T09:00:00.000Z', cert: { ...CERT, serial: '100' } },
      { time: '2026-12-02T10:00:00.000Z', cert: CERT },
      { time: '2026-12-02T10:00:05.000Z', event: 'exit' as const, status: 0, cert: CERT },
      { time: '2026-12-02T10:30:00.000Z', event: 'deny' as const, code: 'busy', reason: 'busy', cert: { ...CERT, keyId: '<img src=x onerror=alert(1)>', principals: [] } },
      { time: '2026-12-02T11:00:00.000Z' },
    ]) {
      const r = rec(f);
      view.add(r, Date.parse(r.time));
    }
    const page = await view.finish({ now: NOW, staleMs: 26 * 3600e3, lookbackMs: 24 * 3600e3, paint: (_s, t) => t, json: false });
    const section = page.slice(page.indexOf('<h2 id="certificates">'));
    const rows = section.match(/<tr><td>.*?<\/tr>/g)!;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(rows[0]).toContain('(any)');
    expect(rows[1]).toMatch(/^<tr><td>backup@web-1<\/td><td class="num">101<\/td><td>backup<\/td><td><code>ssh-ed25519 SHA256:t2STci70ck\/vO1eTMXbgG\/2U6nq6ZWom4yUNo7nN0n8<\/code><\/td><td>forever<\/td><td class="num">2<\/td><td>[\d-]+ [\d:]+ \(allow\)<\/td><\/tr>$/);
    expect(page).not.toContain('<img');
    const dir = mkdtempSync(join(tmpdir(), 'gk-cert-html-'));
    try {
      writeFileSync(join(dir, 'r.html'), page);
      const t = spawnSync('/usr/bin/tidy', ['-q', '-e', '--drop-empty-elements', 'no', join(dir, 'r.html')], { encoding: 'utf8' });
      expect({ status: t.status, output: t.stderr }).toEqual({ status: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Without certificates, no section.
    const plain = new HtmlReport({ now: NOW, days: 2, policies: new Map(), keys: { problem: 'none here' } });
    plain.add(rec({ time: T }), Date.parse(T));
    expect(await plain.finish({ now: NOW, staleMs: 26 * 3600e3, lookbackMs: 24 * 3600e3, paint: (_s, t) => t, json: false })).not.toContain('id="certificates"');
  });
});

// views/html/stream.ts in one thread: records fed to a report through
// ReportEncoder, a structured clone (what postMessage does to a batch) and
// ReportDecoder make the page that the same records make through add(),
// wherever the encoded part starts, however small the table of strings, with
// the keys wired to the gate shown (their last use is what keyUsed keeps),
// --suggest's candidates and their records, and nights in zones and windows.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HtmlReport, type HtmlOptions } from '../../src/audit/views/html.js';
import { oldestTime, ReportDecoder, ReportEncoder, sureFrom } from '../../src/audit/views/html/stream.js';
import { SuggestCollector, suggest } from '../../src/audit/views/suggest.js';
import { parseLine } from '../../src/audit/read/parse.js';
import { paint } from '../../src/audit/views/format.js';
import type { AuditRecord } from '../../src/audit/join/transfer.js';
import { NOW, reportRecord } from './report-records.js';

const DAY = 86_400_000;
const wired = (fingerprint: string) => ({ user: 'root', file: '/root/.ssh/authorized_keys', policy: 'backup', fingerprint, comment: `key ${fingerprint}`, from: null, present: true });

const options = (days: number): HtmlOptions => ({
  now: NOW,
  days,
  policies: new Map([
    ['backup', { window: ['22:00-04:00'], timezone: 'Europe/Berlin' }],
    ['web', { timezone: 'UTC' }],
  ]),
  keys: { keys: [wired('SHA256:one'), wired('SHA256:two')], source: 'the test' },
  collector: new SuggestCollector(),
  suggest: (c) => suggest(c, { policyDir: '/nonexistent/policies' }),
  sources: 'the test',
});

async function page(records: { record: AuditRecord; t: number }[], days: number, from: number, maxStrings?: number): Promise<string> {
  const report = new HtmlReport(options(days));
  const taken = records.filter((r) => r.record.event !== 'grant');
  for (const { record, t } of taken.slice(0, from)) report.add(record, t);
  const encoder = new ReportEncoder(oldestTime(NOW, days), sureFrom(NOW, days), maxStrings);
  const decoder = new ReportDecoder(report);
  for (const { record, t } of taken.slice(from)) encoder.add(record, t);
  for (const batch of encoder.take(true)) decoder.apply(structuredClone(batch));
  return report.finish({ now: NOW, staleMs: 26 * 3600e3, lookbackMs: DAY, paint: paint(false), json: false });
}

const parsed = (lines: string[]) =>
  lines.map((l) => parseLine(l)).filter((p): p is Exclude<ReturnType<typeof parseLine>, string> => typeof p !== 'string');

describe('the report fed through its encoding', () => {
  it('is the page add() makes, wherever the encoded part starts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reportRecord, { minLength: 1, maxLength: 120 }), fc.nat(), fc.constantFrom(30, 7, 2), fc.constantFrom(undefined, 0, 2), async (lines, at, days, strings) => {
        const records = parsed(lines);
        const from = at % (records.length + 1);
        expect(await page(records, days, from, strings)).toBe(await page(records, days, records.length));
      }),
      { numRuns: 200 },
    );
  });

  const deny = (t: number, code: string, session: string) =>
    JSON.stringify({ level: 40, time: t, pid: 1, hostname: 'srv1', v: 2, policy: 'gone', session, user: 'root', client: { addr: '192.0.2.7', port: 1 }, server: null, key: 'ED25519 SHA256:one', command: 'rsync --server -logDtpre.iLsfxCIvu --delete . /x', argv: null, event: 'deny', code, status: 77, msg: `refused: ${code}` });

  it('keeps as the candidate the record of its first refusal in the nights shown, not an older one', async () => {
    // The same command refused with another reason a day before the oldest night (counted, not shown), then in it.
    const records = parsed([deny(NOW - 31.5 * DAY, 'access', 'a'.repeat(16)), deny(NOW - 2 * DAY, 'delete-refused', 'b'.repeat(16)), deny(NOW - DAY, 'delete-refused', 'c'.repeat(16))]);
    const one = await page(records, 30, records.length);
    expect(one).toContain('no change: cannot read policy');
    expect(await page(records, 30, 0)).toBe(one);
  });
});

// read/split.ts and views/html/stream.ts: `audit --html` over one big file,
// this thread reading the first part into the report and the built worker
// (dist/audit-part.mjs) encoding the rest, which is fed to the same report
// after it. Whatever the file holds, the page (and every note on stderr, and
// the exit status) is the single-thread one; each way the split read can end
// is seen to happen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_CUT, splitPoint } from '../../src/audit/read/split.js';
import { writePolicy } from '../helpers/policy.js';
import { NOW, reportRecord as record } from './report-records.js';
import { auditInProcess, type Outcome } from './split-helpers.js';

const REPO = join(import.meta.dirname, '..', '..');
const WORKER = new URL(`file://${join(REPO, 'dist', 'audit-part.mjs')}`);
const dir = mkdtempSync(join(tmpdir(), 'gk-split-report-'));
const policies = join(dir, 'policies');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

beforeAll(() => {
  mkdirSync(policies, { mode: 0o700 });
  mkdirSync(join(dir, 'data'));
  // Nights in a zone with a window (Berlin, 22:00-04:00), and noon to noon in UTC; a third policy has no file.
  writePolicy(policies, { root: join(dir, 'data'), log: join(dir, 'g.log'), access: 'read-only', window: ['22:00-04:00'], timezone: 'Europe/Berlin' }, 'backup.json');
  writePolicy(policies, { root: join(dir, 'data'), log: join(dir, 'g.log'), access: 'read-only', timezone: 'UTC' }, 'web.json');
});

const report = (file: string, args: Record<string, unknown>, split: boolean, worker = WORKER, reportStrings?: number) =>
  auditInProcess({ log: [file], html: '-', policyDir: policies, ...args }, { now: NOW, split, partWorker: worker, reportStrings });

let n = 0;
function write(lines: string[]): string {
  const file = join(dir, `log-${n++}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** A log: records, some repeated a little later (rsyslog's at-least-once delivery), some damaged lines. */
const log = fc
  .tuple(fc.array(record, { minLength: 1, maxLength: 80 }), fc.array(fc.tuple(fc.nat(), fc.nat(5)), { maxLength: 6 }), fc.array(fc.constantFrom('not json', '{"v":9}'), { maxLength: 2 }))
  .map(([lines, copies, junk]) => {
    const out = [...lines];
    for (const [at, later] of copies) {
      const i = at % out.length;
      out.splice(Math.min(out.length, i + 1 + later), 0, out[i]!);
    }
    for (const j of junk) out.splice(out.length >> 1, 0, j);
    return out;
  });

const args = fc.oneof(fc.constant({}), fc.constant({ days: '7' }), fc.constant({ days: '2' }), fc.constant({ decision: ['deny'] }), fc.constant({ host: ['srv1'] }), fc.constant({ since: '2026-11-15' }), fc.constant({ stale: '3d' }));

describe('audit --html read in two parts', () => {
  it('writes the page one thread writes, over any log, filter and number of nights', async () => {
    const outcomes = new Set<Outcome>();
    await fc.assert(
      fc.asyncProperty(log, args, fc.constantFrom(undefined, 0, 3), async (lines, a, strings) => {
        const file = write(lines);
        const one = await report(file, a, false);
        const two = await report(file, a, true, WORKER, strings);
        expect(two.result).toEqual(one.result);
        expect(one.outcome).toBe('none');
        outcomes.add(two.outcome);
      }),
      { numRuns: 150 },
    );
    expect(outcomes.has('merged')).toBe(true);
    expect(outcomes.has('read-again')).toBe(true);
  });

  const allow = (s: string, t: number, exec = 'spawn') =>
    JSON.stringify({ level: 30, time: t, pid: 1, hostname: 'srv1', v: 2, policy: 'backup', session: s, user: 'root', client: { addr: '192.0.2.7', port: 1 }, server: null, command: null, argv: null, event: 'allow', code: 'allowed', exec, msg: 'ok' });
  const exit = (s: string, t: number, status = 0) =>
    JSON.stringify({ level: 30, time: t, pid: 1, hostname: 'srv1', v: 2, policy: 'backup', session: s, user: 'root', client: { addr: '192.0.2.7', port: 1 }, server: null, command: null, argv: null, event: 'exit', exec: 'spawn', status, signal: null, msg: 'done' });
  const hexOf = (i: number) => i.toString(16).padStart(16, '0');

  it('ends a session allowed before the cut with its exit after it, and reads again when a copy crosses the cut', async () => {
    // Each night's run allowed at 23:00 and ended at 01:00; the cut falls between an allow and its exit.
    const lines: string[] = [];
    for (let k = 20; k >= 1; k--) lines.push(allow(hexOf(k), NOW - k * DAY - 7 * 3600e3), exit(hexOf(k), NOW - k * DAY - 5 * 3600e3, k % 7 === 0 ? 23 : 0));
    // Damaged lines in front move the cut until it falls on an exit.
    let file = '';
    let text = '';
    let cut = 0;
    for (let pad = 0; pad < 40; pad++) {
      file = write([...Array.from({ length: pad }, () => 'not json '.repeat(8)), ...lines]);
      text = readFileSync(file, 'utf8');
      cut = splitPoint(file, text.length, Math.floor(text.length * REPORT_CUT))!;
      if (JSON.parse(text.slice(cut).split('\n')[0]!).event === 'exit') break;
    }
    expect(JSON.parse(text.slice(cut).split('\n')[0]!).event).toBe('exit');
    const one = await report(file, {}, false);
    const two = await report(file, {}, true);
    expect(two.outcome).toBe('merged');
    expect(two.result).toEqual(one.result);
    expect(one.result.stdout).toContain('data-state="failed"');
    // The first allow again at the end: a copy only the whole read knows.
    const copy = write([...text.trimEnd().split('\n'), lines[0]!]);
    const again = await report(copy, {}, true);
    expect(again.outcome).toBe('read-again');
    expect(again.result).toEqual((await report(copy, {}, false)).result);
    expect(again.result.stderr).toContain('skipped 1 duplicate record');
  });

  it('settles sessions beyond the open-session bound as one thread does', async () => {
    // 12,000 allows whose ends never come (more than MAX_OPEN), then a few exits of early ones.
    const lines = Array.from({ length: 12_000 }, (_, i) => allow(hexOf(i), NOW - 20 * DAY + i * 60e3, i % 3 ? 'spawn' : 'execve'));
    for (let i = 0; i < 30; i++) lines.push(exit(hexOf(i * 400), NOW - 10 * DAY + i * 60e3, i % 4 ? 0 : 12));
    const file = write(lines);
    const two = await report(file, {}, true);
    expect(two.outcome).toBe('merged');
    expect(two.result).toEqual((await report(file, {}, false)).result);
  });

  it('reads the second part itself when the worker cannot run, and says so', async () => {
    const file = write(Array.from({ length: 10 }, (_, i) => allow(hexOf(i), NOW - DAY + i)));
    const missing = await report(file, {}, true, new URL(`file://${join(dir, 'no-such-worker.mjs')}`));
    expect(missing.outcome).toBe('worker-failed');
    const one = (await report(file, {}, false)).result;
    expect(missing.result.stdout).toBe(one.stdout);
    expect(missing.result.stderr).toMatch(new RegExp(`^gatekeeper: the part of ${file} from byte \\d+ could not be read in a worker thread \\(.+\\); read on one thread\n`));
    expect(missing.result.stderr.replace(/^.*\n/, '')).toBe(one.stderr);
  });

  it('starts again on one thread when the worker fails after some of its records were fed', async () => {
    // A worker that answers its first keys and one (empty) batch, then fails.
    const failing = join(dir, 'failing-worker.mjs');
    writeFileSync(
      failing,
      `import { parentPort } from 'node:worker_threads';
const none = new Int32Array(0);
parentPort.postMessage({ first: { hosts: [], count: 0, tags: none, his: none, los: none, others: new Map() } });
const a = (T) => new T(0);
parentPort.postMessage({ batch: { n: 0, kind: a(Uint8Array), flags: a(Uint8Array), t: a(Float64Array), row: none, key: none, text: none, his: none, los: none, refusals: [], records: [], strings: [], rows: [], inline: [], whole: [] } });
setTimeout(() => { throw new Error('worker broke'); }, 10);
`,
    );
    const file = write(Array.from({ length: 40 }, (_, i) => (i % 2 ? exit(hexOf(i - 1), NOW - DAY + i * 60e3) : allow(hexOf(i), NOW - DAY + i * 60e3))));
    const two = await report(file, {}, true, new URL(`file://${failing}`));
    expect(two.outcome).toBe('worker-failed');
    const one = (await report(file, {}, false)).result;
    expect(two.result.stdout).toBe(one.stdout);
    expect(two.result.status).toBe(one.status);
    expect(two.result.stderr).toMatch(/^gatekeeper: the part of .* could not be read in a worker thread \(worker broke\); read on one thread\n/);
    expect(two.result.stderr.replace(/^.*\n/, '')).toBe(one.stderr);
  });
});

// read/split.ts: `audit --summary` over one big file, the second half read by
// the built worker (dist/audit-part.mjs, made by `npm run build` before the
// tests). Whatever the file holds, the answer (stdout, every note on stderr,
// the exit status) is the single-thread one; the split's checks decide only
// whether the worker's half is merged or read again here, and each outcome
// is seen to happen.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitPoint } from '../../src/audit/read/split.js';
import { auditInProcess, type Outcome } from './split-helpers.js';

const REPO = join(import.meta.dirname, '..', '..');
const WORKER = new URL(`file://${join(REPO, 'dist', 'audit-part.mjs')}`);
const dir = mkdtempSync(join(tmpdir(), 'gk-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.parse('2026-12-01T00:00:00Z');

const audit = (file: string, args: Record<string, unknown>, split: boolean, worker = WORKER) =>
  auditInProcess({ log: [file], summary: true, policyDir: join(dir, 'no-policies'), ...args }, { now: NOW, split, partWorker: worker });

let n = 0;
function write(lines: string[]): string {
  const file = join(dir, `log-${n++}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const hex = fc.stringMatching(/^[0-9a-f]{16}$/);
const reasons = [
  ['option-refused', 'option --delete is refused', ['--delete']],
  ['access', 'this policy is read-only', undefined],
  ['path-outside-root', '".." is refused', undefined],
] as const;

/** A version 2 record as pino writes it, of one of a few hosts, policies and clients. */
const record = fc
  .record({
    t: fc.integer({ min: NOW - 40 * 86400e3, max: NOW }),
    host: fc.constantFrom('srv1', 'srv2', 'db-3'),
    policy: fc.constantFrom('backup', 'restore-20261130T000000Z', 'web'),
    client: fc.constantFrom('192.0.2.7', '198.51.100.2', null),
    session: fc.oneof({ weight: 9, arbitrary: hex }, { weight: 1, arbitrary: fc.constantFrom('not-hex', 'ABCDEF0123456789', '') }),
    event: fc.constantFrom('allow', 'allow', 'exit', 'exit', 'deny', 'error', 'grant'),
    status: fc.constantFrom(0, 0, 24, 23, 12),
    reason: fc.constantFrom(...reasons),
    wouldDeny: fc.boolean(),
  })
  .map((r) => {
    const base = {
      level: r.event === 'deny' ? 40 : r.event === 'error' ? 50 : 30,
      time: r.t,
      pid: 4242,
      hostname: r.host,
      v: 2,
      policy: r.policy,
      session: r.session,
      user: 'root',
      client: r.client === null ? null : { addr: r.client, port: 50000 },
      server: null,
      key: 'ED25519 SHA256:x',
      command: 'rsync --server --sender . /',
      argv: null,
      event: r.event,
    };
    const own =
      r.event === 'allow'
        ? { code: 'allowed', exec: 'execve', ...(r.wouldDeny ? { wouldDeny: r.reason[1] } : {}) }
        : r.event === 'exit'
          ? { exec: 'spawn', status: r.status, signal: null }
          : r.event === 'grant'
            ? { grant: { kind: 'restore', path: '/srv', granted: '2026-11-30T00:00:00Z', expires: '2026-11-30T04:00:00Z', from: null, keepOwners: false, delete: false } }
            : { code: r.reason[0], status: r.event === 'deny' ? 77 : 78, ...(r.reason[2] ? { options: r.reason[2] } : {}) };
    return JSON.stringify({ ...base, ...own, msg: r.event === 'exit' ? `rsync exited with status ${r.status}` : r.reason[1] });
  });

/** A log: records, some repeated a little later (rsyslog's at-least-once delivery), some damaged lines. */
const log = fc
  .tuple(fc.array(record, { minLength: 1, maxLength: 60 }), fc.array(fc.tuple(fc.nat(), fc.nat(5)), { maxLength: 8 }), fc.array(fc.constantFrom('not json', '{"v":9}', '{}'), { maxLength: 3 }))
  .map(([lines, copies, junk]) => {
    const out = [...lines];
    for (const [at, later] of copies) {
      const i = at % out.length;
      out.splice(Math.min(out.length, i + 1 + later), 0, out[i]!);
    }
    for (const j of junk) out.splice(out.length >> 1, 0, j);
    return out;
  });

const args = fc.oneof(
  fc.constant({}),
  fc.constant({ json: true }),
  fc.constant({ decision: ['deny'] }),
  fc.constant({ decision: ['allow', 'error'] }),
  fc.constant({ host: ['srv1'] }),
  fc.constant({ since: '2026-11-15' }),
  fc.constant({ stale: '3d' }),
);

describe('audit --summary read in two parts', () => {
  it('the built worker is where the split read looks for it', () => {
    expect(existsSync(WORKER)).toBe(true);
    // partWorker() resolves ../audit-part.mjs from the chunk that holds read/split.ts: it must be in dist/chunks/.
    const chunks = readdirSync(join(REPO, 'dist', 'chunks')).filter((f) => readFileSync(join(REPO, 'dist', 'chunks', f), 'utf8').includes('../audit-part.mjs'));
    expect(chunks.length).toBe(1);
  });

  it('answers as one thread does, over any log, filter and view', async () => {
    const outcomes = new Set<Outcome>();
    await fc.assert(
      fc.asyncProperty(log, args, async (lines, a) => {
        const file = write(lines);
        const one = await audit(file, a, false);
        const two = await audit(file, a, true);
        expect(two.result).toEqual(one.result);
        expect(one.outcome).toBe('none');
        outcomes.add(two.outcome);
      }),
      { numRuns: 150 },
    );
    // Both ends of the checks came up among the generated logs.
    expect(outcomes.has('merged')).toBe(true);
    expect(outcomes.has('read-again')).toBe(true);
  });

  const allow = (session: string, host = 'srv1', t = NOW - 3600e3) =>
    JSON.stringify({ level: 30, time: t, pid: 1, hostname: host, v: 2, policy: 'backup', session, user: 'root', client: { addr: '192.0.2.7', port: 1 }, server: null, command: null, argv: null, event: 'allow', code: 'allowed', msg: 'ok' });

  it('merges a clean cut, and reads the second part again when a copy of a record crosses it', async () => {
    const sessions = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(16, '0'));
    const clean = write(sessions.map((s) => allow(s)));
    const c1 = await audit(clean, {}, true);
    expect(c1.outcome).toBe('merged');
    expect(c1.result).toEqual((await audit(clean, {}, false)).result);
    // The last record of the first half again, just after the cut: a copy only the whole read knows.
    const cut = splitPoint(clean, readFileSync(clean).length)!;
    const firstHalf = readFileSync(clean, 'utf8').slice(0, cut).trimEnd().split('\n');
    const copy = write([...firstHalf, firstHalf.at(-1)!, ...readFileSync(clean, 'utf8').slice(cut).trimEnd().split('\n')]);
    const c2 = await audit(copy, {}, true);
    expect(c2.outcome).toBe('read-again');
    expect(c2.result).toEqual((await audit(copy, {}, false)).result);
    expect(c2.result.stderr).toContain('skipped 1 duplicate record');
    // The same session on another host is no copy: merged.
    const other = write([...firstHalf, allow(JSON.parse(firstHalf.at(-1)!).session, 'srv2'), ...readFileSync(clean, 'utf8').slice(cut).trimEnd().split('\n')]);
    expect((await audit(other, {}, true)).outcome).toBe('merged');
  });

  it('reads the second part again when one of its groups ran out of room for reasons', async () => {
    const deny = (i: number) =>
      JSON.stringify({ level: 40, time: NOW - 3600e3 + i, pid: 1, hostname: 'srv1', v: 2, policy: 'backup', session: i.toString(16).padStart(16, '0'), user: 'root', client: { addr: '192.0.2.7', port: 1 }, server: null, command: null, argv: null, event: 'deny', code: `code-${i}`, status: 77, msg: 'no' });
    // 250 distinct reasons in the second half alone (MAX_REASONS is 200).
    const file = write([...Array.from({ length: 250 }, (_, i) => allow((1e6 + i).toString(16).padStart(16, '0'))), ...Array.from({ length: 250 }, (_, i) => deny(i))]);
    const two = await audit(file, {}, true);
    expect(two.outcome).toBe('read-again');
    expect(two.result).toEqual((await audit(file, {}, false)).result);
    expect(two.result.stdout).toContain('(other reasons)');
  });

  it('reads the second part itself when the worker cannot run, and says so', async () => {
    const file = write(Array.from({ length: 10 }, (_, i) => allow(i.toString(16).padStart(16, '0'))));
    const missing = await audit(file, {}, true, new URL(`file://${join(dir, 'no-such-worker.mjs')}`));
    expect(missing.outcome).toBe('worker-failed');
    const one = (await audit(file, {}, false)).result;
    expect(missing.result.stdout).toBe(one.stdout);
    expect(missing.result.status).toBe(one.status);
    expect(missing.result.stderr).toMatch(new RegExp(`^gatekeeper: the second half of ${file} could not be read in a worker thread \\(.+\\); read on one thread\n`));
    expect(missing.result.stderr.replace(/^.*\n/, '')).toBe(one.stderr);
  });

  it('cuts at a line start past the middle, never where the text would read as gzip, and not a gzip file', () => {
    const f = join(dir, 'cut');
    writeFileSync(f, 'aaaa\nbbbb\ncccc\ndddd\n');
    expect(splitPoint(f, 20)).toBe(15);
    // A line after the middle that starts with gzip's magic: the cut goes to the next line.
    writeFileSync(f, Buffer.from('aaaaaaaaa\nb\n\x1f\x8bx\ncccc\n', 'latin1'));
    expect(splitPoint(f, 21)).toBe(16);
    writeFileSync(f, 'aaaaaaaaaaaaaaaaaaaa');
    expect(splitPoint(f, 20)).toBeNull();
    writeFileSync(f, Buffer.from([0x1f, 0x8b, 0x0a, 0x41, 0x0a, 0x41, 0x0a]));
    expect(splitPoint(f, 7)).toBeNull();
  });
});

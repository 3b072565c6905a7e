// read/prefilter.ts drops a line --decision cannot show without parsing it.
// It may do so only for a line parseLine reads as a valid record of an event
// the filter does not show, at the time parseLine gives: then audit's output
// and every count on stderr are what the full path gives. Checked on real
// writer output (pino's version 2 line through sinkFor, in the key order of
// src/gate/main.ts's record(); the version 1 writer's and the bench's shapes),
// the same mutated a character at a time, and arbitrary JSON.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseLine } from '../../src/audit/read/parse.js';
import { unshownLine } from '../../src/audit/read/prefilter.js';
import { runAudit } from '../../src/audit/run.js';
import { EVENTS, RECORD_VERSION, type GateEntry } from '../../src/log/record.js';
import { sinkFor } from '../../src/log/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'gk-prefilter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Text as a log holds it: mostly plain, sometimes with quotes, escapes, control or non-ASCII characters.
const text = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9 ./:,=-]{0,12}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }) },
);
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });
const endpoint = nullable(fc.record({ addr: text, port: fc.integer({ min: 0, max: 65535 }) }));
const strings = fc.array(text, { maxLength: 4 });
const event = fc.constantFrom(...EVENTS);

/** The call's own fields, as gateMain passes them to record() (in their orders there). */
const ownFields = fc.oneof(
  fc.record({ code: text, argv: nullable(strings), options: strings, status: fc.constantFrom(77, 78) }, { requiredKeys: ['code', 'status'] }),
  fc.record({ code: text, argv: strings, exec: fc.constantFrom('execve', 'spawn' as const), wouldDeny: text, options: strings, transferLog: text }, { requiredKeys: ['code', 'argv', 'exec'] }),
  fc.record({ argv: strings, exec: fc.constant('spawn' as const), signal: nullable(text), rsyncPid: fc.nat(1 << 22), status: fc.integer({ min: 0, max: 255 }) }, { requiredKeys: ['argv', 'exec', 'signal', 'status'] }),
  fc.record({ code: text, status: fc.integer({ min: 0, max: 255 }), wouldDeny: text }, { requiredKeys: ['code'] }),
);

/** What record() in src/gate/main.ts builds: its base fields first, family, then the call's fields (event, reason, …). */
const entry = fc
  .record({
    policy: text,
    session: fc.stringMatching(/^[0-9a-f]{16}$/),
    user: nullable(text),
    client: endpoint,
    server: endpoint,
    key: nullable(text),
    command: nullable(text),
    family: fc.option(fc.constantFrom('rsync', 'openrsync' as const), { nil: undefined }),
    event,
    reason: text,
    own: ownFields,
  })
  .map(({ family, event, reason, own, ...base }): GateEntry => ({ v: RECORD_VERSION, ...base, argv: null, ...(family ? { family } : {}), event, reason, ...own }) as GateEntry);

const time = fc.integer({ min: Date.parse('2000-01-01'), max: Date.parse('2100-01-01') });

/** The line pino writes (version 2), with the time set as the writer's clock would. */
function pinoLine(e: GateEntry, t: number): string {
  let out = '';
  const sink = sinkFor((l) => (out = l));
  sink.write(e);
  return out.slice(0, -1).replace(/^(\{"level":\d+,"time":)\d+/, `$1${t}`);
}

/** The version 1 writer (before pino came back): a level label, then record() (v, time, policy, session, pid, …). */
function v1Line(e: GateEntry, t: number, pid: number): string {
  const { v: _v, policy, session, family, ...rest } = e;
  const level = e.event === 'error' ? 'error' : e.event === 'deny' ? 'warn' : 'info';
  return JSON.stringify({ level, v: 1, time: new Date(t).toISOString(), policy, session, pid, ...rest, ...(family ? { family } : {}) });
}

/** scripts/bench-audit.mjs's version 1 file: no label, reason last. */
function benchLine(e: GateEntry, t: number, pid: number): string {
  const { v: _v, policy, session, reason, ...rest } = e;
  return JSON.stringify({ v: 1, time: new Date(t).toISOString(), policy, session, pid, ...rest, reason });
}

const writerLine = fc.tuple(entry, time, fc.nat(1 << 22), fc.constantFrom(pinoLine, v1Line, benchLine)).map(([e, t, pid, write]) => ({ e, line: write(e, t, pid) }));

/** One character replaced, deleted or put in (a damaged line), or a key repeated. */
const mutated = fc.tuple(writerLine, fc.nat(), fc.constantFrom('', '"', '\\', '\u0001', ' ', ',', '}', '1', 'x', '"v":1,', '"event":"deny",', '"pid":1e999,', '"time":"x",', ',"status":"7"')).map(([{ line }, at, put]) => {
  const i = at % (line.length + 1);
  return put.length > 1 ? line.slice(0, i) + put + line.slice(i) : line.slice(0, i) + put + line.slice(i + 1);
});

const anyLine = fc.oneof({ weight: 3, arbitrary: writerLine.map((w) => w.line) }, { weight: 6, arbitrary: mutated }, { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) });

const shownSet = fc.subarray([...EVENTS], { minLength: 1 }).map((a) => new Set<string>(a));

describe('unshownLine', () => {
  it('drops only a valid record of an event not shown, at the time parseLine reads', () => {
    fc.assert(
      fc.property(shownSet, anyLine, (shown, line) => {
        const t = unshownLine(shown)(line);
        if (Number.isNaN(t)) return;
        const parsed = parseLine(line);
        expect(typeof parsed).toBe('object');
        if (typeof parsed === 'string') return;
        expect(shown.has(parsed.record.event)).toBe(false);
        expect(t).toBe(parsed.t);
      }),
      { numRuns: 20_000 },
    );
  });

  it("recognises the writers' lines: every plain one (no escape, no certificate) of an event not shown", () => {
    fc.assert(
      fc.property(shownSet, writerLine, (shown, { e, line }) => {
        const plain = !line.includes('\\');
        const t = unshownLine(shown)(line);
        expect(Number.isNaN(t)).toBe(!plain || shown.has(e.event));
      }),
      { numRuns: 5000 },
    );
  });

  it('leaves a shown event, a certificate, a grant and framed lines to the full path', () => {
    const deny = new Set(['deny']);
    const e: GateEntry = { v: RECORD_VERSION, policy: 'p', session: '0123456789abcdef', user: 'root', client: null, server: null, key: null, command: null, argv: null, event: 'allow', reason: 'ok', code: 'allowed', exec: 'execve' };
    const line = pinoLine(e, 1_795_698_000_000);
    expect(unshownLine(deny)(line)).toBe(1_795_698_000_000);
    expect(unshownLine(new Set(['allow']))(line)).toBeNaN();
    const cert = { keyId: 'k', serial: '1', principals: [], ca: 'ED25519 SHA256:x', validAfter: null, validBefore: null };
    expect(unshownLine(deny)(pinoLine({ ...e, cert }, 1))).toBeNaN();
    expect(unshownLine(deny)(`Dec  2 05:55:26 srv1 gatekeeper[1]: ${line}`)).toBeNaN();
    expect(unshownLine(deny)(JSON.stringify({ SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: line }))).toBeNaN();
    // A version 1 time that isoTime reads as no time: parseLine counts the line as not-record, so it must go the full way.
    const bad = v1Line(e, 0, 1).replace('1970-01-01', '1970-13-01');
    expect(parseLine(bad)).toBe('not-record');
    expect(unshownLine(deny)(bad)).toBeNaN();
  });
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function audit(args: { log: string[]; decision: string[]; json?: boolean; summary?: boolean }, prefilter: boolean) {
  const stdout = new Sink();
  const stderr = new Sink();
  const status = await runAudit({ ...args, policyDir: join(dir, 'no-policies') }, { stdout, stderr, env: {}, now: Date.parse('2100-01-01'), prefilter });
  return { status, stdout: stdout.text, stderr: stderr.text };
}

describe('audit --decision with and without the prefilter', () => {
  // With allow or exit the joiner runs and sees every record: no line may be dropped (run.ts).
  const decision = fc.subarray([...EVENTS], { minLength: 1 });
  const file = fc.array(fc.oneof(anyLine, fc.constant('')), { maxLength: 40 });
  let n = 0;

  it('prints the same and reports the same skips, duplicates and misses, over one file or two', async () => {
    await fc.assert(
      fc.asyncProperty(decision, fc.array(file, { minLength: 1, maxLength: 2 }), fc.boolean(), async (events, files, summary) => {
        const log: string[] = [];
        for (const lines of files) {
          const path = join(dir, `log-${n++}`);
          // A copy of some lines (syslog's at-least-once delivery) makes duplicates.
          writeFileSync(path, [...lines, ...lines.slice(0, 3)].join('\n') + '\n');
          log.push(path);
        }
        const args = { log, decision: events, ...(summary ? { summary: true } : { json: true }) };
        const full = await audit(args, false);
        const fast = await audit(args, true);
        expect(fast).toEqual(full);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a dropped line in its place in the merge: the order of two unsorted files is the full path\'s', async () => {
    const e: GateEntry = { v: RECORD_VERSION, policy: 'p', session: '0123456789abcdef', user: 'root', client: null, server: null, key: null, command: null, argv: null, event: 'allow', reason: 'ok', code: 'allowed', exec: 'execve' };
    const at = (event: GateEntry['event'], t: number, session: string) => pinoLine({ ...e, event, session }, t);
    const a = join(dir, 'merge-a');
    const b = join(dir, 'merge-b');
    // A's allow (not shown) is later than B's deny, A's deny earlier: the merge takes B's deny before A's.
    writeFileSync(a, `${at('allow', 5000, 'a1')}\n${at('deny', 1000, 'a2')}\n`);
    writeFileSync(b, `${at('deny', 3000, 'b1')}\n`);
    const args = { log: [a, b], decision: ['deny'], json: true };
    const full = await audit(args, false);
    expect(full.stdout.split('\n').map((l) => l && JSON.parse(l).session)).toEqual(['b1', 'a2', '']);
    expect(await audit(args, true)).toEqual(full);
  });
});

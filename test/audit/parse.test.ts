import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkRecord, isoTime, parseLine, MAX_LINE } from '../../src/audit/read/parse.js';
import { RecordLineSchema, RecordLineV1Schema } from '../../src/log/record.js';
import { rec } from './helpers.js';

const base = rec({ time: '2026-11-26T13:00:00.000Z', key: 'ED25519 SHA256:abc', code: 'allowed', options: ['--delete'], status: 0, transferLog: '/var/log/t' });

// Values a field might hold in a damaged or foreign log.
const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.record({ addr: fc.oneof(fc.string(), fc.integer()), port: fc.oneof(fc.integer(), fc.string()) }),
  fc.constantFrom('allow', 'deny', 'error', 'exit', 'execve', 'spawn', 1, 2),
);

// A version 2 line as pino writes it for the gate.
const { reason: _reason, time: _time, ...fields } = base;
const baseV2 = { level: 30, time: Date.parse(base.time), hostname: 'srv1', ...fields, v: 2, msg: base.reason };
const eitherSchema = (value: unknown) => RecordLineV1Schema.safeParse(value).success || RecordLineSchema.safeParse(value).success;

describe('checkRecord agrees with the record schemas (version 1 and version 2 lines)', () => {
  it.each([
    ['version 1', base, RecordLineV1Schema.shape],
    ['version 2', baseV2, RecordLineSchema.shape],
  ] as const)('on %s records with any field replaced, removed or added', (_v, start, shape) => {
    const keys = [...Object.keys(shape), 'extra'];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...keys), junk), { maxLength: 4 }), (edits) => {
        const value: Record<string, unknown> = structuredClone(start) as Record<string, unknown>;
        for (const [k, v] of edits) {
          if (v === undefined) delete value[k];
          else value[k] = v;
        }
        expect(typeof checkRecord(value) !== 'string').toBe(eitherSchema(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(typeof checkRecord(value) !== 'string').toBe(eitherSchema(value));
      }),
    );
  });

  it('reads a version 2 line as the same record as its version 1 form', () => {
    expect(checkRecord(structuredClone(baseV2))).toMatchObject({ ...base, v: 2, hostname: 'srv1' });
  });
});

describe('parseLine', () => {
  const record = JSON.stringify(base);

  it('reads a record line and its time', () => {
    const p = parseLine(record);
    expect(p).toMatchObject({ t: Date.parse('2026-11-26T13:00:00.000Z'), raw: record });
  });

  it.each([
    ['an empty object', '{}', 'not-record'],
    ['a truncated line', record.slice(0, 80), 'not-json'],
    ['plain text', 'hello world', 'not-json'],
    ['another schema version', JSON.stringify({ ...base, v: 3 }), 'other-version'],
    ['a version 2 line with a version 1 time', JSON.stringify({ ...baseV2, time: base.time }), 'not-record'],
    ['a JSON array', '[1,2]', 'not-json'],
    ['an unparseable time', JSON.stringify({ ...base, time: 'yesterday' }), 'not-record'],
    ['an unknown event', JSON.stringify({ ...base, event: 'maybe' }), 'not-record'],
    ['a line too long to keep', `{"x":"${'a'.repeat(MAX_LINE)}"}`, 'too-long'],
  ])('skips %s', (_what, text, why) => {
    expect(parseLine(text)).toBe(why);
  });

  it('reads journald export lines (journalctl -o json), MESSAGE as text or as bytes', () => {
    const asText = JSON.stringify({ __REALTIME_TIMESTAMP: '1795698000000000', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: record });
    const asBytes = JSON.stringify({ SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: [...Buffer.from(record)] });
    for (const text of [asText, asBytes]) {
      const p = parseLine(text);
      expect(typeof p).toBe('object');
      expect(p).toMatchObject({ raw: record, record: { session: base.session } });
    }
    expect(parseLine(JSON.stringify({ SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: 'sshd: accepted key' }))).toBe('not-json');
    expect(parseLine(JSON.stringify({ SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: 42 }))).toBe('not-record');
    expect(parseLine(JSON.stringify({ MESSAGE: record }))).toBe('not-record');
    expect(parseLine(JSON.stringify({ SYSLOG_IDENTIFIER: 'gatekeeper', _UID: '1000', MESSAGE: record }))).toBe('not-record');
  });

  it('reads classic syslog file lines (rsyslog)', () => {
    const p = parseLine(`Nov 26 13:00:00 host gatekeeper[4242]: ${record}`);
    expect(p).toMatchObject({ raw: JSON.stringify({ ...base, hostname: 'host' }), record: { hostname: 'host' } });
    expect(parseLine(`<38>Nov 26 13:00:00 gatekeeper[4242]: ${record}`)).toMatchObject({ raw: record });
    expect(parseLine(`Nov 26 13:00:00 host sshd[1]: ${record}`)).toBe('not-json');
  });
});

describe('isoTime is Date.parse', () => {
  // Texts of the form toISOString writes, with every field drawn over and beyond its range
  // (month 13, February 30, hour 24, year 0042), and the same texts with one character changed.
  const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
  const iso = fc
    .tuple(fc.integer({ min: 0, max: 9999 }), two, two, two, two, two, fc.integer({ min: 0, max: 999 }))
    .map(([y, mo, d, h, mi, s, ms]) => `${String(y).padStart(4, '0')}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}Z`);
  const near = fc
    .tuple(fc.integer({ min: 1969, max: 2101 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }))
    .map(([y, mo, d, h, mi, s]) => `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(s).padStart(2, '0')}.500Z`);
  const mutated = fc.tuple(fc.oneof(iso, near), fc.nat(23), fc.string({ minLength: 0, maxLength: 2 })).map(([text, at, put]) => text.slice(0, at) + put + text.slice(at + 1));

  it('on generated and mutated times', () => {
    fc.assert(
      fc.property(fc.oneof(iso, near, mutated, fc.string({ maxLength: 30 })), (text) => {
        expect(Object.is(isoTime(text), Date.parse(text))).toBe(true);
      }),
      { numRuns: 20_000, examples: [['2028-02-29T23:59:59.999Z'], ['2026-02-29T00:00:00.000Z'], ['2100-02-29T00:00:00.000Z'], ['2000-02-29T00:00:00.000Z'], ['0099-12-31T00:00:00.000Z'], ['2026-12-31T24:00:00.000Z'], ['2026-11-26T13:00:00.000z']] },
    );
  });

  it('reads the gate\'s own times to the millisecond', () => {
    for (const t of [0, 1, 951782400000, 1795698000123, 4102444800000]) expect(isoTime(new Date(t).toISOString())).toBe(t);
  });
});

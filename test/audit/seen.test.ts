// SeenRecords (src/audit/seen.ts): a repeated (host, session, event) is a copy;
// the memory is bounded, the oldest forgotten first.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SEEN_WINDOW, SeenRecords } from '../../src/audit/seen.js';
import type { AuditRecord } from '../../src/audit/join/transfer.js';

const rec = (session: string, event = 'allow', hostname?: string) => ({ session, event, hostname }) as unknown as AuditRecord;

describe('SeenRecords', () => {
  it('knows a record by host, session and event', () => {
    const seen = new SeenRecords();
    expect(seen.repeated(rec('a'))).toBe(false);
    expect(seen.repeated(rec('a', 'exit'))).toBe(false);
    expect(seen.repeated(rec('a', 'allow', 'h1'))).toBe(false);
    expect(seen.repeated(rec('a', 'allow', 'h2'))).toBe(false);
    expect(seen.repeated(rec('a'))).toBe(true);
    expect(seen.repeated(rec('a', 'exit'))).toBe(true);
    expect(seen.repeated(rec('a', 'allow', 'h2'))).toBe(true);
    expect(seen.duplicates).toBe(3);
  });

  it('forgets the oldest first, exactly after SEEN_WINDOW others', () => {
    const seen = new SeenRecords();
    seen.repeated(rec('first'));
    seen.repeated(rec('second', 'deny', 'h'));
    for (let i = 0; i < SEEN_WINDOW - 2; i++) seen.repeated(rec(`s${i}`, i % 2 ? 'exit' : 'allow', `h${i % 3}`));
    // The window is full: both are still known.
    expect(seen.repeated(rec('second', 'deny', 'h'))).toBe(true);
    expect(seen.repeated(rec('first'))).toBe(true);
    seen.repeated(rec('one-more'));
    // 'first' was the oldest and is forgotten; taking its place again forgets 'second'.
    expect(seen.repeated(rec('first'))).toBe(false);
    expect(seen.repeated(rec('second', 'deny', 'h'))).toBe(false);
    expect(seen.duplicates).toBe(2);
  });

  it('answers as a plain window of the last records that were not copies, for hex and other sessions alike', () => {
    // The reference: the keys of the last `size` records that were not copies, in a list.
    // Sessions that differ in one digit anywhere, upper case and near-hex texts, and random ones; a small
    // window makes a small table, so keys collide and probes wrap around its end.
    const oneDigit = fc.tuple(fc.nat(15), fc.constantFrom(...'0123456789abcdef')).map(([at, d]) => `0123456789abcdef`.slice(0, at) + d + `0123456789abcdef`.slice(at + 1));
    const session = fc.oneof(oneDigit, fc.constantFrom('0123456789ABCDEF', 'x', '0123456789abcdeg', '0123456789abcde', 'f0123456789abcdef'), fc.stringMatching(/^[0-9a-f]{16}$/), fc.stringMatching(/^[0-9a-f]{1,2}$/).map((t) => t.padStart(16, '0')));
    const record = fc.record({ session, event: fc.constantFrom('allow', 'exit', 'deny'), hostname: fc.constantFrom(undefined, '', 'h1', 'h2') });
    // Or a few sessions used again and again: most lookups then find a key whose neighbours were deleted and moved.
    const pool = fc.array(fc.stringMatching(/^[0-9a-f]{16}$/), { minLength: 1, maxLength: 30 });
    const reused = pool.chain((sessions) => fc.array(fc.record({ session: fc.constantFrom(...sessions), event: fc.constant('allow'), hostname: fc.constant(undefined) }), { minLength: 500, maxLength: 2000 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.oneof(fc.array(record, { maxLength: 600, size: 'max' }), reused), (size, records) => {
        const seen = new SeenRecords(size);
        const window: string[] = [];
        for (const r of records) {
          const key = `${r.hostname ?? ''}\0${r.event}\0${r.session}`;
          const copy = window.includes(key);
          if (!copy) {
            window.push(key);
            if (window.length > size) window.shift();
          }
          expect(seen.repeated(r as unknown as AuditRecord)).toBe(copy);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

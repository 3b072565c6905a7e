// SeenRecords (src/audit/run.ts): a repeated (host, session, event) is a copy;
// the memory is bounded, the oldest forgotten first.
import { describe, expect, it } from 'vitest';
import { SEEN_WINDOW, SeenRecords } from '../../src/audit/run.js';
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
});

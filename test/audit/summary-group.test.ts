// Summary's groups: what each kind of record leaves in its group, in any order
// of arrival (the "none yet" of a time is null in the result, never a number).
import { describe, expect, it } from 'vitest';
import { Summary } from '../../src/audit/views/summary.js';
import { rec } from './helpers.js';
import type { AuditRecord } from '../../src/audit/join/transfer.js';

const T = Date.parse('2026-11-26T13:00:00.000Z');
const at = (minutes: number) => T + minutes * 60e3;
const r = (fields: Partial<AuditRecord>): AuditRecord => ({ ...rec({ time: new Date(T).toISOString() }), ...fields }) as AuditRecord;

describe('Summary groups', () => {
  it('a client only refused: no last allowed session, no last success, no outcome', () => {
    const s = new Summary();
    s.add(r({ event: 'deny', code: 'access', client: { addr: '203.0.113.9', port: 1 } }), at(5));
    s.add(r({ event: 'deny', code: 'access', client: { addr: '203.0.113.9', port: 2 } }), at(1));
    const [g] = s.result();
    expect(g).toMatchObject({ client: '203.0.113.9', refused: 2, allowed: 0, first: at(1), last: at(5), lastAllowed: null, lastSuccess: null, outcomeKnown: false });
    expect(g!.reasons).toEqual([{ reason: 'access', count: 2 }]);
  });

  it('keeps the latest allowed session and the latest success, whatever order they arrive in', () => {
    const s = new Summary();
    s.add(r({ event: 'allow' }), at(10));
    s.add(r({ event: 'allow' }), at(3));
    s.add(r({ event: 'exit', session: 'late', status: 0, transfer: { sent: 5, received: 6, totalSize: 7, errors: 0, firstError: null } }), at(20));
    s.add(r({ event: 'exit', session: 'early', status: 24 }), at(15));
    s.add(r({ event: 'exit', session: 'failed', status: 23 }), at(30));
    const [g] = s.result();
    expect(g).toMatchObject({ allowed: 2, succeeded: 2, failed: 1, first: at(3), last: at(30), lastAllowed: at(10), outcomeKnown: true });
    expect(g!.lastSuccess).toEqual({ t: at(20), session: 'late', sent: 5, received: 6 });
  });

  it('a success without byte counts has them as null', () => {
    const s = new Summary();
    s.add(r({ event: 'exit', session: 'x', status: 0 }), at(1));
    expect(s.result()[0]!.lastSuccess).toEqual({ t: at(1), session: 'x', sent: null, received: null });
    expect(s.result()[0]!.lastAllowed).toBeNull();
  });
});

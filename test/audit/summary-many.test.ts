// audit --summary over more groups than a function call takes arguments
// (a fleet: hosts × policies × clients): every group is a row, nothing throws.
import { describe, expect, it } from 'vitest';
import { renderSummary, Summary } from '../../src/audit/views/summary.js';
import { paint } from '../../src/audit/views/format.js';
import type { AuditRecord } from '../../src/audit/join/transfer.js';

describe('renderSummary', () => {
  it('renders 150,000 groups', () => {
    const s = new Summary();
    const t = Date.parse('2026-10-01T00:00:00Z');
    const n = 150_000;
    for (let i = 0; i < n; i++) {
      s.add({ event: 'allow', policy: `p${i % 40}`, session: String(i), hostname: `srv${i % 200}`, client: { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1 } } as unknown as AuditRecord, t + i);
    }
    const text = renderSummary(s.result(), { now: t + n, staleMs: 3600e3, paint: paint(false) });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^HOST +POLICY +CLIENT +ALLOWED/);
    expect(lines.filter((l) => /^srv\d+ /.test(l))).toHaveLength(n);
  });
});

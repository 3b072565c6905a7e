// audit's table marks the lines openrsync sent (the record's family field);
// rsync's lines and lines without the field stay as they were.
import { describe, expect, it } from 'vitest';
import { paint, tableRow } from '../../src/audit/views/format.js';
import { rec } from './helpers.js';

const t = Date.parse('2026-11-26T10:00:00Z');
const row = (fields: Parameters<typeof rec>[0]) => tableRow(rec(fields), t, paint(false));

describe('the table shows the client family', () => {
  it('an openrsync line is marked before its command', () => {
    const r = row({ time: '2026-11-26T10:00:00.000Z', command: 'rsync --server --sender -g -l -o -p -D -r -t . /', family: 'openrsync' });
    expect(r).toMatch(/allow\s+\[openrsync\] pull \/ -g -l -o -p -D -r -t$/);
  });
  it('a refused openrsync line too', () => {
    const r = row({ time: '2026-11-26T10:00:00.000Z', event: 'deny', code: 'access', reason: 'read-only', command: 'rsync --server -g -l . /', family: 'openrsync' });
    expect(r).toMatch(/deny\s+\[openrsync\] push \/ -g -l\s+read-only$/);
  });
  it('rsync and no family: unmarked', () => {
    for (const family of ['rsync', undefined] as const) {
      const r = row({ time: '2026-11-26T10:00:00.000Z', ...(family ? { family } : {}) });
      expect(r).toMatch(/allow\s+pull \/ -vlogDtprxze\.iLsfxCIvu --numeric-ids$/);
      expect(r).not.toContain('[');
    }
  });
});

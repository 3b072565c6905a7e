// The report's open sessions (views/html/open.ts) must come out in exactly a
// Map's insertion order, which is what the report used before: the same
// sessions settled, in the same order, so the same cells. Checked against a
// Map over long random sequences of the report's operations, with ids
// reused after they ended (a pid or session id seen again).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OpenSessions } from '../../src/audit/views/html/open.js';

type Op = { op: 'set'; id: number; value: number } | { op: 'delete'; id: number } | { op: 'shift' };

const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), id: fc.integer({ min: 0, max: 300 }), value: fc.integer() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 300 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('shift' as const) }) },
  ),
  { minLength: 1, maxLength: 6000, size: 'max' },
);

function replay(list: Op[]): void {
  const model = new Map<string, number>();
  const q = new OpenSessions<{ id: string; value: number }>();
  for (const o of list) {
    if (o.op === 'set') {
      model.set(String(o.id), o.value);
      q.set({ id: String(o.id), value: o.value });
    } else if (o.op === 'delete') {
      expect(q.delete(String(o.id))).toBe(model.delete(String(o.id)));
    } else {
      const first = model.entries().next().value;
      if (first) model.delete(first[0]);
      expect(q.shift()).toEqual(first && { id: first[0], value: first[1] });
    }
    expect(q.size).toBe(model.size);
    expect(q.queued).toBeLessThanOrEqual(2 * q.size + 1024);
  }
  expect(q.entries()).toEqual([...model].map(([id, value]) => ({ id, value })));
  for (const [id, v] of model) expect(q.get(id)?.value).toBe(v);
  // Then empty it oldest first: every entry, none lost, none twice.
  for (const [id, value] of [...model]) expect(q.shift()).toEqual({ id, value });
  expect(q.shift()).toBeUndefined();
}

describe('OpenSessions', () => {
  it('shift, get, delete and entries agree with a Map, ids reused included', () => {
    fc.assert(fc.property(ops, replay), { numRuns: 40, seed: 22 });
  });

  it('a long run of sets and deletes that never fill it (every end seen) keeps its order past the queue compaction', () => {
    const list: Op[] = [];
    for (let i = 0; i < 30_000; i++) {
      list.push({ op: 'set', id: i % 2500, value: i });
      if (i % 3 !== 0) list.push({ op: 'delete', id: (i * 7) % 2500 });
      if (i % 97 === 0) list.push({ op: 'shift' });
    }
    replay(list);
  });

  it('sessions that stay open while thousands of others start and end keep their place, and the dead ones do not pile up', () => {
    const list: Op[] = [];
    for (let id = 0; id < 10; id++) list.push({ op: 'set', id, value: id });
    for (let i = 0; i < 20_000; i++) {
      const id = 100 + (i % 50);
      list.push({ op: 'set', id, value: i }, { op: 'set', id, value: -i }, { op: 'delete', id });
      if (i % 1000 === 0) list.push({ op: 'set', id: i % 10, value: i });
    }
    replay(list);
  });
});

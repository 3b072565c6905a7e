// The timeline's cells in typed arrays (views/html/cells.ts): which session
// decides a night (a completed run over a failed one, the later of the same
// kind), every session counted, and nothing lost when the arrays grow for
// more rows.
import { describe, expect, it } from 'vitest';
import { NightCells } from '../../src/audit/views/html/cells.js';

describe('NightCells', () => {
  it('the highest kind decides, the later session of the same kind replaces the earlier, an earlier one does not; all are counted', () => {
    const c = new NightCells(7);
    const row = c.block();
    const slot = row + 2;
    expect(c.kindAt(slot)).toBeNull();
    expect(c.cell(slot)).toBeNull();
    c.mark(slot, 'refused', 100, null, 'refused: a');
    c.mark(slot, 'failed', 50, 80, 'rsync exit 23');
    c.mark(slot, 'refused', 200, null, 'refused: b');
    expect(c.cell(slot)).toEqual({ kind: 'failed', start: 50, end: 80, text: 'rsync exit 23', counts: [['failed', 1], ['refused', 2]] });
    c.mark(slot, 'failed', 40, 60, 'older failure');
    expect(c.cell(slot)!.text).toBe('rsync exit 23');
    c.mark(slot, 'failed', 50, null, 'same start, later record');
    expect(c.cell(slot)).toMatchObject({ kind: 'failed', start: 50, end: null, text: 'same start, later record' });
    c.mark(slot, 'completed', 10, 20, 'rsync exit 0');
    c.mark(slot, 'running', 300, null, 'still running');
    c.mark(slot, 'unknown', 400, null, 'no outcome');
    expect(c.cell(slot)).toEqual({ kind: 'completed', start: 10, end: 20, text: 'rsync exit 0', counts: [['completed', 1], ['running', 1], ['failed', 3], ['unknown', 1], ['refused', 2]] });
    // The night before and the row's other nights are untouched.
    for (let k = 0; k < 7; k++) if (k !== 2) expect(c.kindAt(row + k)).toBeNull();
  });

  it('thousands of rows: every block keeps its cells across the chunks', () => {
    const c = new NightCells(30);
    const rows: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const row = c.block();
      rows.push(row);
      c.mark(row + (i % 30), i % 2 ? 'completed' : 'failed', i, i + 1, `text ${i}`);
    }
    expect(new Set(rows).size).toBe(5000);
    rows.forEach((row, i) => {
      expect(c.cell(row + (i % 30))).toEqual({ kind: i % 2 ? 'completed' : 'failed', start: i, end: i + 1, text: `text ${i}`, counts: [[i % 2 ? 'completed' : 'failed', 1]] });
      expect(c.kindAt(row + ((i + 1) % 30))).toBeNull();
    });
  });
});

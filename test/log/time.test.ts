import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/log/time.js';

describe('isoTime', () => {
  it('writes what toISOString writes, for any millisecond of years 0000-9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000, max: 253402300799999 }), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20000, seed: 99 },
    );
  });

  it.each([
    0, -1, 951782400000 /* 2000-02-29 */, 951868799999, 4107542400000 /* 2100-03-01 */, 1795706361148, -62167219200000, 253402300799999, 1709164800000,
  ])('%d', (ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('hands anything outside that range, or not an integer, to Date', () => {
    for (const ms of [253402300800000, -62167219200001, 1.5]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});

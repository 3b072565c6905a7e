import { describe, expect, it } from 'vitest';
import { buildFilter, clientMatcher, parseTimePoint } from '../../src/audit/filter.js';
import { rec } from './helpers.js';

const now = Date.parse('2026-11-26T12:00:00Z');

describe('parseTimePoint', () => {
  it.each([
    ['90m', now - 90 * 60e3],
    ['36h', now - 36 * 3600e3],
    ['3d', now - 3 * 86400e3],
    ['1d12h', now - 36 * 3600e3],
    ['2w', now - 14 * 86400e3],
    ['2026-11-25T23:30:00Z', Date.parse('2026-11-25T23:30:00Z')],
    ['2026-11-25T23:30:00.250Z', Date.parse('2026-11-25T23:30:00.250Z')],
    ['2026-11-25T23:30+01:00', Date.parse('2026-11-25T22:30:00Z')],
    ['2026-11-25 23:30 -0500', Date.parse('2026-11-26T04:30:00Z')],
  ])('%s', (text, expected) => {
    expect(parseTimePoint(text, now)).toBe(expected);
  });

  it('without a zone it is local time (the process TZ)', () => {
    expect(parseTimePoint('2026-11-25', now)).toBe(new Date(2026, 10, 25).getTime());
    expect(parseTimePoint('2026-11-25T23:59:30', now)).toBe(new Date(2026, 10, 25, 23, 59, 30).getTime());
  });

  it.each(['yesterday', '3x', '2026-02-31', '2026-13-01', '2026-11-25T24:00', '2026-11-25T23:60', '', '-3d'])('refuses %j', (text) => {
    expect(() => parseTimePoint(text, now)).toThrow(/not a/);
  });
});

describe('clientMatcher', () => {
  it.each([
    [['198.51.100.7'], '198.51.100.7', true],
    [['198.51.100.7'], '198.51.100.8', false],
    [['198.51.100.0/24'], '198.51.100.200', true],
    [['198.51.100.0/24'], '198.51.101.1', false],
    [['2001:db8::/32'], '2001:db8:1::5', true],
    [['2001:db8::/32'], '2001:db9::5', false],
    [['2001:db8::/32'], '198.51.100.7', false],
    [['-'], undefined, true],
    [['198.51.100.7'], undefined, false],
  ] as const)('%j matches %s: %s', (specs, addr, expected) => {
    expect(clientMatcher(specs)(addr)).toBe(expected);
  });
});

describe('buildFilter', () => {
  const r = rec({ time: '2026-11-26T11:00:00.000Z', event: 'deny', policy: 'web', user: 'backup', reason: 'option --log-file is always refused', code: 'always-refused', options: ['--log-file'] });
  const t = Date.parse(r.time);
  it.each([
    [{}, true],
    [{ since: '2h' }, true],
    [{ since: '30m' }, false],
    [{ until: '30m' }, true],
    [{ until: '2h' }, false],
    [{ since: '2026-11-26T11:00:00Z' }, true], // inclusive
    [{ until: '2026-11-26T11:00:00Z' }, false], // exclusive
    [{ decision: ['deny'] }, true],
    [{ decision: ['allow,error'] }, false],
    [{ policy: ['web'] }, true],
    [{ policy: ['backup'] }, false],
    [{ client: ['198.51.100.0/24'] }, true],
    [{ user: ['root'] }, false],
    [{ grep: 'LOG-FILE' }, true],
    [{ grep: '--delete' }, false],
  ])('%j → %s', (opts, expected) => {
    expect(buildFilter(opts, now).test(r, t)).toBe(expected);
  });

  it('--decision allow also shows how the allowed runs ended', () => {
    const exit = rec({ time: r.time, event: 'exit', status: 0 });
    expect(buildFilter({ decision: ['allow'] }, now).test(exit, t)).toBe(true);
    expect(buildFilter({ decision: ['deny'] }, now).test(exit, t)).toBe(false);
  });

  it('--grep finds the client family the gate recorded (openrsync\'s separate option words)', () => {
    const line = rec({ time: r.time, event: 'allow', command: 'rsync --server --sender -g -l -o . /', family: 'openrsync' });
    expect(buildFilter({ grep: 'openrsync' }, now).test(line, t)).toBe(true);
    expect(buildFilter({ grep: 'openrsync' }, now).test(rec({ time: r.time, event: 'allow', family: 'rsync' }), t)).toBe(false);
  });

  it('refuses an unknown decision', () => {
    expect(() => buildFilter({ decision: ['maybe'] }, now)).toThrow(/--decision/);
  });
});

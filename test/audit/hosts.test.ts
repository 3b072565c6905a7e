// audit across hosts: what central collectors write (rsyslog files in both
// timestamp formats, journald's JSON export), the host of each record,
// --host with shell wildcards, and the HOST column of the table and summary.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { parseLine } from '../../src/audit/read/parse.js';
import { hostMatcher, wildcardRegExp } from '../../src/audit/filter.js';
import { HOST_LOOKAHEAD } from '../../src/audit/run.js';
import { tempDir } from '../helpers/policy.js';
import { audit, jsonLines, line, lineV2 } from './helpers.js';

const dir = tempDir('gk-audit-hosts-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

describe('--host patterns', () => {
  it.each([
    ['web-*', ['web-1', 'web-12.example.org', 'WEB-2'], ['xweb-1', 'web', 'db-1']],
    ['db?', ['db1', 'dbx'], ['db', 'db12']],
    ['[ab]x', ['ax', 'bx'], ['cx', 'abx']],
    ['[!a]x', ['bx', 'cx'], ['ax', 'x']],
    ['n[0-9]', ['n0', 'n7'], ['na', 'n10']],
    ['-', ['-'], ['a']],
  ])('%s matches whole names only', (pattern, yes, no) => {
    const re = wildcardRegExp(pattern);
    for (const h of yes) expect(re.test(h), h).toBe(true);
    for (const h of no) expect(re.test(h), h).toBe(false);
  });

  it('takes every other character literally: no regular expression gets through', () => {
    expect(wildcardRegExp('a.c').test('abc')).toBe(false);
    expect(wildcardRegExp('a.c').test('a.c')).toBe(true);
    expect(wildcardRegExp('a|b').test('a')).toBe(false);
    expect(wildcardRegExp('(.*)').test('x')).toBe(false);
    expect(wildcardRegExp('(.*)').test('(x)')).toBe(false);
    expect(wildcardRegExp('(*)').test('(x)')).toBe(true);
    expect(wildcardRegExp('x{2}').test('xx')).toBe(false);
    expect(wildcardRegExp('[a\\]').test('\\')).toBe(true);
    expect(wildcardRegExp('[a').test('[a')).toBe(true);
    expect(wildcardRegExp('a$').test('a$')).toBe(true);
  });

  it('refuses a range backwards', () => {
    expect(() => wildcardRegExp('[z-a]')).toThrow(/bad range/);
  });

  it('matches any of several patterns; "-" is a record with no host', () => {
    const m = hostMatcher(['web-*', '-']);
    expect([m('web-1'), m(undefined), m('db-1')]).toEqual([true, true, false]);
  });
});

describe('parseLine: the host of each record', () => {
  const v1 = line({ time: '2026-12-02T05:55:26.123Z', session: 'old' });
  const v2 = lineV2({ time: '2026-12-02T05:55:27.000Z', session: 'new', hostname: 'host-b' });

  it.each([
    ['an rsyslog line, traditional timestamp', `Dec  2 05:55:26 host-a gatekeeper[4242]: ${v1}`],
    ['an rsyslog line, traditional timestamp, two-digit day', `Dec 12 05:55:26 host-a gatekeeper[4242]: ${v1}`],
    ['an rsyslog line, RFC 3339 timestamp', `2026-12-02T05:55:26.123456+00:00 host-a gatekeeper[4242]: ${v1}`],
    ['an rsyslog line, RFC 3339 timestamp in Z', `2026-12-02T05:55:26Z host-a gatekeeper: ${v1}`],
    ['a journald export entry', JSON.stringify({ __REALTIME_TIMESTAMP: '1795931726123000', _HOSTNAME: 'host-a', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: v1 })],
    ['a journald export entry, MESSAGE as bytes', JSON.stringify({ _HOSTNAME: 'host-a', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: [...Buffer.from(v1)] })],
  ])('a version 1 record takes the host from %s', (_what, text) => {
    const p = parseLine(text);
    if (typeof p === 'string') throw new Error(p);
    expect(p.record).toMatchObject({ session: 'old', hostname: 'host-a' });
    expect(p.t).toBe(Date.parse('2026-12-02T05:55:26.123Z'));
    // --json prints the logged line, with the host it came from.
    expect(JSON.parse(p.raw)).toEqual({ ...JSON.parse(v1), hostname: 'host-a' });
  });

  it("keeps a version 2 record's own hostname over its carrier's", () => {
    for (const text of [`Dec  2 05:55:27 central gatekeeper[1]: ${v2}`, JSON.stringify({ _HOSTNAME: 'central', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: v2 }), v2]) {
      const p = parseLine(text);
      if (typeof p === 'string') throw new Error(p);
      expect(p.record).toMatchObject({ session: 'new', hostname: 'host-b', v: 2 });
      expect(p.raw).toBe(v2);
    }
  });

  it('reads a record whose journald MESSAGE is not valid UTF-8 (a byte array)', () => {
    const bytes = Buffer.from(line({ time: '2026-12-02T05:55:26.123Z', command: 'rsync --server --sender . /XX' }));
    const at = bytes.indexOf('XX');
    bytes[at] = 0xff; // not UTF-8: journald exports MESSAGE as an array of numbers
    const p = parseLine(JSON.stringify({ _HOSTNAME: 'host-a', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: [...bytes] }));
    if (typeof p === 'string') throw new Error(p);
    expect(p.record.command).toBe('rsync --server --sender . /\ufffdX');
    expect(p.record.hostname).toBe('host-a');
  });

  it('skips what another program logged', () => {
    expect(parseLine(JSON.stringify({ _HOSTNAME: 'a', SYSLOG_IDENTIFIER: 'sshd', MESSAGE: v1 }))).toBe('not-record');
    // No identifier at all: not the gate's (it always logs as "gatekeeper").
    expect(parseLine(JSON.stringify({ _HOSTNAME: 'a', MESSAGE: v1 }))).toBe('not-record');
  });

  it("skips a journald entry from another uid: anyone can log as \"gatekeeper\" (logger -t), journald's _UID says who did", () => {
    for (const uid of ['1000', '65534', '00', ' 0', '', ['0', '1000']]) {
      expect(parseLine(JSON.stringify({ _HOSTNAME: 'a', _UID: uid, SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: v1 })), JSON.stringify(uid)).toBe('not-record');
    }
    // The gate's own (root), and an export without trusted fields (systemd-journal-remote may drop them).
    expect(parseLine(JSON.stringify({ _HOSTNAME: 'a', _UID: '0', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: v1 }))).toMatchObject({ record: { session: 'old' } });
    expect(parseLine(JSON.stringify({ _HOSTNAME: 'a', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: v1 }))).toMatchObject({ record: { session: 'old' } });
    expect(parseLine(`Dec  2 05:55:26 host-a sshd[1]: ${v1}`)).toBe('not-json');
  });
});

describe('audit over a fleet', () => {
  const deny = 'rsync --server -vlogDtprxze.iLsfxCIvu . /';
  // One central rsyslog file (both timestamp formats: rsyslog's default and RSYSLOG_FileFormat),
  // a journald export of a third host, and old records that know their host only from the header.
  const central = join(dir, 'central.log');
  const journal = join(dir, 'journal.json.gz');
  writeFileSync(
    central,
    [
      `Dec  2 05:00:00 web-1 gatekeeper[100]: ${line({ time: '2026-12-02T05:00:00.000Z', session: 'w1-old', client: { addr: '192.0.2.10', port: 1 } })}`,
      `2026-12-02T05:01:00.000000+00:00 central gatekeeper[101]: ${lineV2({ time: '2026-12-02T05:01:00.000Z', session: 'w2-a', hostname: 'web-2', client: { addr: '192.0.2.10', port: 1 } })}`,
      `Dec  2 05:02:00 central gatekeeper[102]: ${lineV2({ time: '2026-12-02T05:02:00.000Z', session: 'w1-b', hostname: 'web-1', client: { addr: '192.0.2.10', port: 1 } })}`,
      `Dec  2 05:03:00 central gatekeeper[103]: ${lineV2({ time: '2026-12-02T05:03:00.000Z', session: 'w2-d', hostname: 'web-2', event: 'deny', command: deny, reason: 'refused: read-only', code: 'access', client: { addr: '203.0.113.9', port: 1 } })}`,
      'Dec  2 05:03:30 central sshd[7]: Accepted publickey for root',
      '',
    ].join('\n'),
  );
  writeFileSync(
    journal,
    gzipSync(
      JSON.stringify({ _HOSTNAME: 'db-1', SYSLOG_IDENTIFIER: 'gatekeeper', MESSAGE: lineV2({ time: '2026-12-02T05:04:00.000Z', session: 'd1', hostname: 'db-1', command: PULL }) }) + '\n',
    ),
  );

  it('reads every format at once, merged by time, and shows a HOST column', () => {
    const r = audit(['--log', central, '--log', journal]);
    expect(r.status).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+HOST\s+POLICY\s+CLIENT\s+DECISION/);
    expect(rows.slice(1).map((l) => l.split(/\s+/)[2])).toEqual(['web-1', 'web-2', 'web-1', 'web-2', 'db-1']);
    expect(r.stderr).toContain('skipped 1 line');
  });

  it('--host filters by whole host names with wildcards', () => {
    const sessions = (args: string[]) => jsonLines(audit(['--log', central, '--log', journal, '--json', ...args]).stdout).map((x) => x.session);
    expect(sessions(['--host', 'web-1'])).toEqual(['w1-old', 'w1-b']);
    expect(sessions(['--host', 'web-*'])).toEqual(['w1-old', 'w2-a', 'w1-b', 'w2-d']);
    expect(sessions(['--host', 'db-?', '--host', 'web-2'])).toEqual(['w2-a', 'w2-d', 'd1']);
    expect(sessions(['--host', 'web'])).toEqual([]);
    expect(sessions(['--host', 'web-.'])).toEqual([]);
    const bad = audit(['--log', central, '--host', '[z-a]']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/bad range/);
  });

  it('--summary groups by host, policy and client, with a HOST column', () => {
    const r = audit(['--log', central, '--log', journal, '--summary'], { env: { TZ: 'UTC' } });
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^HOST\s+POLICY\s+CLIENT\s+ALLOWED\s+REFUSED/);
    const rows = lines.slice(1, 5).map((l) => l.split(/\s+/).slice(0, 5));
    expect(rows).toEqual([
      ['db-1', 'backup', '198.51.100.7', '1', '0'],
      ['web-1', 'backup', '192.0.2.10', '2', '0'],
      ['web-2', 'backup', '192.0.2.10', '1', '0'],
      ['web-2', 'backup', '203.0.113.9', '0', '1'],
    ]);
    expect(r.stdout).toContain('203.0.113.9 (policy backup on web-2): 1 refused, never allowed');
    const json = jsonLines(audit(['--log', central, '--log', journal, '--summary', '--json']).stdout);
    expect(json.map((g) => [g.host, g.client, g.allowed])).toEqual([
      ['db-1', '198.51.100.7', 1],
      ['web-1', '192.0.2.10', 2],
      ['web-2', '192.0.2.10', 1],
      ['web-2', '203.0.113.9', 0],
    ]);
  });

  it('reads a record delivered twice once (rsyslog forwards at least once; two files may hold the same records)', () => {
    const twice = join(dir, 'twice.log');
    const copy = lineV2({ time: '2026-12-02T05:05:00.000Z', session: 'dup', hostname: 'web-1' });
    const sameSessionOtherEvent = lineV2({ time: '2026-12-02T05:06:00.000Z', session: 'dup', hostname: 'web-1', event: 'exit', status: 0 });
    const sameSessionOtherHost = lineV2({ time: '2026-12-02T05:07:00.000Z', session: 'dup', hostname: 'web-2' });
    writeFileSync(twice, [`2026-12-02T05:05:00.1+00:00 central gatekeeper[5]: ${copy}`, `2026-12-02T05:05:00.2+00:00 central gatekeeper[5]: ${copy}`, sameSessionOtherEvent, sameSessionOtherHost, ''].join('\n'));
    const r = audit(['--log', twice, '--log', central, '--json', '--host', 'web-*']);
    const got = jsonLines(r.stdout).map((x) => `${x.hostname} ${x.session} ${x.event}`);
    expect(got.filter((x) => x.includes(' dup '))).toEqual(['web-1 dup allow', 'web-1 dup exit', 'web-2 dup allow']);
    expect(got).toHaveLength(4 + 3);
    expect(r.stderr).toContain('skipped 1 duplicate record (');
    // The same file under two names: the summary counts each session once.
    const copyOf = join(dir, 'central-copy.log');
    writeFileSync(copyOf, readFileSync(central));
    const once = audit(['--log', central, '--summary', '--json']).stdout;
    const both = audit(['--log', central, '--log', copyOf, '--summary', '--json']);
    expect(both.stdout).toBe(once);
    expect(both.stderr).toContain('skipped 4 duplicate records (');
  });

  it('with --decision deny (no joiner, no duplicate set for other events), still reads a delivered-twice denial once', () => {
    const twice = join(dir, 'twice-deny.log');
    const deny = lineV2({ time: '2026-12-02T05:05:00.000Z', session: 'dd', hostname: 'web-1', event: 'deny', reason: 'push refused' });
    const allow = lineV2({ time: '2026-12-02T05:06:00.000Z', session: 'da', hostname: 'web-1' });
    const denyOtherHost = lineV2({ time: '2026-12-02T05:07:00.000Z', session: 'dd', hostname: 'web-2', event: 'deny', reason: 'push refused' });
    writeFileSync(twice, [deny, allow, deny, allow, denyOtherHost, deny, ''].join('\n'));
    const r = audit(['--log', twice, '--json', '--decision', 'deny']);
    expect(jsonLines(r.stdout).map((x) => `${x.hostname} ${x.session} ${x.event}`)).toEqual(['web-1 dd deny', 'web-2 dd deny']);
    // The note counts the duplicates of what --decision shows.
    expect(r.stderr).toContain('skipped 2 duplicate records (');
  });

  it('shows no HOST column for the records of one host', () => {
    const r = audit(['--log', central, '--host', 'web-2']);
    expect(r.stdout.split('\n')[0]).toMatch(/^TIME\s+POLICY\s+CLIENT/);
    const s = audit(['--log', central, '--summary', '--host', 'web-2']);
    expect(s.stdout.split('\n')[0]).toMatch(/^POLICY\s+CLIENT/);
  });

  it('a second host after the rows held back starts the column there, saying whose the rows above are', () => {
    const f = join(dir, 'late.log');
    const t0 = Date.parse('2026-12-01T00:00:00.000Z');
    const many = Array.from({ length: HOST_LOOKAHEAD + 5 }, (_, i) => lineV2({ time: new Date(t0 + i * 1000).toISOString(), hostname: 'alpha' }));
    writeFileSync(f, [...many, lineV2({ time: new Date(t0 + 1e7).toISOString(), hostname: 'beta', session: 'late' }), ''].join('\n'));
    const lines = audit(['--log', f]).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+POLICY/);
    expect(lines).toHaveLength(1 + HOST_LOOKAHEAD + 5 + 3);
    expect(lines.at(-3)).toBe('(every row above is from host alpha)');
    expect(lines.at(-2)).toMatch(/^TIME\s+HOST\s+POLICY/);
    expect(lines.at(-1)).toMatch(/^\S+ \S+\s+beta\s+backup/);
  });

  it('shows a host name with control characters escaped, in the table and the summary', () => {
    const f = join(dir, 'evil.log');
    writeFileSync(f, `Dec  2 05:00:00 ev\x1b[2Jil gatekeeper[1]: ${line({ time: '2026-12-02T05:00:00.000Z' })}\n${lineV2({ time: '2026-12-02T05:01:00.000Z', hostname: 'ok' })}\n`);
    for (const args of [[], ['--summary']]) {
      const r = audit(['--log', f, ...args]);
      expect(r.stdout).not.toContain('\x1b');
      expect(r.stdout).toContain('ev\\x1b[2Jil');
    }
  });
});

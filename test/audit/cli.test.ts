// `gatekeeper audit` as a process, on hand-built records (validated by the
// schema); gate.test.ts does the same on logs the real gate wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../helpers/policy.js';
import { audit, CLI, jsonLines, line, lines, NODE } from './helpers.js';

const dir = tempDir('gk-audit-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const day = (iso: string) => iso;
const allow = { time: day('2026-11-26T10:00:00.000Z'), event: 'allow' as const, session: 'aaaa' };
const deny = {
  time: day('2026-11-26T10:05:00.000Z'),
  event: 'deny' as const,
  session: 'bbbb',
  client: { addr: '203.0.113.9', port: 40000 },
  command: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --log-file=/tmp/x . /',
  reason: 'option --log-file is always refused',
  code: 'always-refused',
  options: ['--log-file'],
};
const error = { time: day('2026-11-26T10:10:00.000Z'), event: 'error' as const, session: 'cccc', reason: 'cannot open the log', code: 'log' };

describe('views', () => {
  const log = join(dir, 'views.log');
  const logged = [line(allow), line(deny), line(error)];
  beforeAll(() => writeFileSync(log, logged.map((l) => l + '\n').join('')));

  it('table: header, one row per record, shortened command, reason; no colour into a pipe', () => {
    const r = audit(['--log', log]);
    expect(r.status).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+POLICY\s+CLIENT\s+DECISION\s+COMMAND\s+REASON$/);
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatch(/^2026-11-26 10:00:00 backup\s+198\.51\.100\.7\s+allow\s+pull \/ -vlogDtprxze\.iLsfxCIvu --numeric-ids$/);
    expect(rows[2]).toMatch(/203\.0\.113\.9\s+deny\s+pull \/ .*--log-file.* option --log-file is always refused$/);
    expect(rows[3]).toMatch(/error .*cannot open the log$/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('--json: the logged lines themselves, one per line, filtered', () => {
    const r = audit(['--log', log, '--json', '--decision', 'deny']);
    expect(r.stdout).toBe(logged[1] + '\n');
    expect(jsonLines(audit(['--log', log, '--json']).stdout).map((x) => x.session)).toEqual(['aaaa', 'bbbb', 'cccc']);
  });

  it.each([
    [['--client', '203.0.113.0/24'], ['bbbb']],
    [['--grep', 'LOG-FILE'], ['bbbb']],
    [['--decision', 'allow', '--decision', 'error'], ['aaaa', 'cccc']],
    [['--policy', 'other'], []],
    [['--user', 'root'], ['aaaa', 'bbbb', 'cccc']],
    [['--since', '2026-11-26T10:05:00Z'], ['bbbb', 'cccc']],
    [['--until', '2026-11-26T10:05:00Z'], ['aaaa']],
  ])('filter %j', (args, sessions) => {
    const r = audit(['--log', log, '--json', ...args]);
    expect(r.status).toBe(0);
    expect(jsonLines(r.stdout).map((x) => x.session)).toEqual(sessions);
    if (sessions.length === 0) expect(r.stderr).toContain('no records match');
  });

  it('colour only on a terminal and only without NO_COLOR', () => {
    // script(1) gives the child a pseudo-terminal (test harness only).
    const viaTty = (env: NodeJS.ProcessEnv) =>
      spawnSync('/usr/bin/script', ['-qec', `${NODE} ${CLI} audit --policy-dir /nonexistent --log ${log}`, '/dev/null'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, TZ: 'UTC', TERM: 'xterm', ...env },
      });
    const coloured = viaTty({});
    expect(coloured.status).toBe(0);
    expect(coloured.stdout).toContain('\x1b[32mallow');
    expect(coloured.stdout).toContain('\x1b[31mdeny');
    const plain = viaTty({ NO_COLOR: '1' });
    expect(plain.stdout).toContain('allow');
    expect(plain.stdout).not.toContain('\x1b[');
  });
});

describe('sources', () => {
  it('stdin, plain and gzipped', () => {
    const text = lines(allow, deny);
    for (const input of [text, gzipSync(text)]) {
      const r = audit(['--log', '-', '--json'], { input });
      expect(jsonLines(r.stdout).map((x) => x.session)).toEqual(['aaaa', 'bbbb']);
    }
  });

  it('journald export on stdin (journalctl -t gatekeeper -o json | gatekeeper audit --log -)', () => {
    const input = [line(allow), line(deny)]
      .map((message, i) => JSON.stringify({ __CURSOR: `s=${i}`, __REALTIME_TIMESTAMP: '1795687200000000', SYSLOG_IDENTIFIER: 'gatekeeper', _PID: '4242', MESSAGE: message }))
      .join('\n');
    const r = audit(['--log', '-', '--json'], { input });
    expect(r.stderr).toBe('');
    expect(jsonLines(r.stdout).map((x) => x.session)).toEqual(['aaaa', 'bbbb']);
  });

  it('rotated and gzipped siblings are read oldest first, by glob', () => {
    const d = join(dir, 'rot');
    mkdirSync(d);
    const base = join(d, 'gatekeeper.log');
    const at = (h: number, session: string) => ({ time: `2026-11-2${h}T10:00:00.000Z`, session });
    writeFileSync(`${base}.3.gz`, gzipSync(lines(at(1, 'd1'))));
    writeFileSync(`${base}.2.gz`, gzipSync(lines(at(2, 'd2'))));
    writeFileSync(`${base}.1`, lines(at(3, 'd3')));
    writeFileSync(base, lines(at(4, 'd4')));
    const r = audit(['--log', `${d}/gatekeeper.log*`, '--json']);
    expect(jsonLines(r.stdout).map((x) => x.session)).toEqual(['d1', 'd2', 'd3', 'd4']);
  });

  it('default sources: the policies\' logs with their rotated siblings; two logs merged by time', () => {
    const d = join(dir, 'default');
    const pol = join(d, 'policies');
    mkdirSync(pol, { recursive: true });
    const a = join(d, 'a.log');
    const b = join(d, 'b.log');
    writeFileSync(join(pol, 'a.yaml'), `log: ${a}\n`);
    writeFileSync(join(pol, 'b.json'), JSON.stringify({ log: b }));
    writeFileSync(join(pol, 'syslogged.yaml'), 'log: syslog\n');
    writeFileSync(`${a}.1.gz`, gzipSync(lines({ time: '2026-11-20T00:00:00.000Z', session: 'a0' })));
    writeFileSync(a, lines({ time: '2026-11-21T00:00:00.000Z', session: 'a1' }, { time: '2026-11-23T00:00:00.000Z', session: 'a3' }));
    writeFileSync(b, lines({ time: '2026-11-22T00:00:00.000Z', session: 'b2' }, { time: '2026-11-24T00:00:00.000Z', session: 'b4' }));
    const r = audit(['--json'], { policyDir: pol });
    expect(jsonLines(r.stdout).map((x) => x.session)).toEqual(['a0', 'a1', 'b2', 'a3', 'b4']);
    expect(r.stderr).toContain('policy syslogged logs to syslog');
  });

  it('corrupt, truncated and foreign lines are skipped and counted on stderr, never fatal', () => {
    const f = join(dir, 'corrupt.log');
    const good = line(allow);
    writeFileSync(f, [good, 'garbage', '', JSON.stringify({ v: 3, time: 'x' }), '{"v":1}', good.replace('aaaa', 'dddd'), good.slice(0, 50)].join('\n'));
    const r = audit(['--log', f, '--json']);
    expect(r.status).toBe(0);
    expect(jsonLines(r.stdout).map((x) => x.session)).toEqual(['aaaa', 'dddd']);
    expect(r.stderr).toContain(`skipped 4 lines in ${f}: 2 not-json, 1 other-version, 1 not-record`);
  });

  it('a truncated gzip: the records before the damage are read, the damage reported', () => {
    const f = join(dir, 'cut.log.1.gz');
    const many = Array.from({ length: 2000 }, (_, i) => line({ time: `2026-11-26T10:00:00.${String(i % 1000).padStart(3, '0')}Z`, session: `z${i}` }) + '\n').join('');
    const gz = gzipSync(many);
    writeFileSync(f, gz.subarray(0, Math.floor(gz.length * 0.7)));
    const r = audit(['--log', f, '--json']);
    expect(r.status).toBe(0);
    expect(jsonLines(r.stdout).length).toBeGreaterThan(100);
    expect(r.stderr).toContain('truncated or corrupt gzip');
  });

  it.each([
    [['--log', '/nonexistent/x.log'], 66, /cannot read log \/nonexistent\/x\.log: ENOENT/],
    [[], 66, /no log files found/],
    [['--log', '-', '--since', 'yesterday'], 64, /not a time/],
    [['--log', '-', '--summary', '--suggest'], 64, /choose one/],
    [['--log', '-', '--summary', '--follow'], 64, /does not combine/],
    [['--log', '-', '--decision', 'maybe'], 64, /--decision/],
  ])('%j exits %i', (args, status, message) => {
    const r = audit(args);
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
  });
});

describe('time filters across midnight and time zones', () => {
  // Records every 30 minutes from 21:00Z to 03:00Z: midnight UTC, and midnight
  // in Berlin (23:00Z) and New York (05:00Z) nearby.
  const f = join(dir, 'midnight.log');
  const times = Array.from({ length: 13 }, (_, i) => new Date(Date.parse('2026-11-25T21:00:00Z') + i * 30 * 60e3).toISOString());
  beforeAll(() => writeFileSync(f, lines(...times.map((time, i) => ({ time, session: `m${i}` })))));
  const sessionsFor = (tz: string, args: string[]) => jsonLines(audit(['--log', f, '--json', ...args], { env: { TZ: tz } }).stdout).map((x) => x.session);

  it.each([
    // local wall-clock bounds around local midnight
    ['UTC', ['--since', '2026-11-25 23:30', '--until', '2026-11-26 00:31'], ['m5', 'm6', 'm7']],
    ['Europe/Berlin', ['--since', '2026-11-25 23:30', '--until', '2026-11-26 00:31'], ['m3', 'm4', 'm5']],
    ['America/New_York', ['--since', '2026-11-25T16:30', '--until', '2026-11-25T17:31'], ['m1', 'm2', 'm3']],
    ['Asia/Kolkata', ['--since', '2026-11-26T05:00', '--until', '2026-11-26T06:00'], ['m5', 'm6']],
    // a date alone is local midnight
    ['Europe/Berlin', ['--until', '2026-11-26'], ['m0', 'm1', 'm2', 'm3']],
    // an explicit zone means the same instant whatever TZ says
    ['America/New_York', ['--since', '2026-11-26T00:00:00Z', '--until', '2026-11-26T01:00:00+01:00'], []],
    ['Asia/Kolkata', ['--since', '2026-11-26T00:00:00Z', '--until', '2026-11-26T02:00:00+01:00'], ['m6', 'm7']],
  ])('TZ=%s %j', (tz, args, expected) => {
    expect(sessionsFor(tz, args)).toEqual(expected);
  });

  it('the table shows local time, so a record after UTC midnight can still be "yesterday"', () => {
    const r = audit(['--log', f, '--until', '2026-11-26T00:00:01Z'], { env: { TZ: 'America/New_York' } });
    const last = r.stdout.trimEnd().split('\n').pop()!;
    expect(last.startsWith('2026-11-25 19:00:00 ')).toBe(true);
  });
});

describe('--summary', () => {
  const f = join(dir, 'summary.log');
  const now = Date.now();
  const ago = (h: number) => new Date(now - h * 3600e3).toISOString();
  beforeAll(() =>
    writeFileSync(
      f,
      lines(
        // host A: backed up an hour ago (spawn fallback: exit records)
        { time: ago(50), policy: 'backup', client: { addr: '192.0.2.10', port: 1 }, event: 'allow', session: 'a1' },
        { time: ago(49), policy: 'backup', client: { addr: '192.0.2.10', port: 1 }, event: 'exit', status: 0, session: 'a1' },
        { time: ago(1.5), policy: 'backup', client: { addr: '192.0.2.10', port: 1 }, event: 'allow', session: 'a2' },
        { time: ago(1), policy: 'backup', client: { addr: '192.0.2.10', port: 1 }, event: 'exit', status: 0, session: 'a2' },
        // host B: last success 3 days ago, since then only failures
        { time: ago(74), policy: 'backup', client: { addr: '192.0.2.20', port: 1 }, event: 'allow', session: 'b1' },
        { time: ago(73), policy: 'backup', client: { addr: '192.0.2.20', port: 1 }, event: 'exit', status: 0, session: 'b1' },
        { time: ago(26), policy: 'backup', client: { addr: '192.0.2.20', port: 1 }, event: 'allow', session: 'b2' },
        { time: ago(25), policy: 'backup', client: { addr: '192.0.2.20', port: 1 }, event: 'exit', status: 12, session: 'b2' },
        // a stranger keeps trying --log-file
        ...[5, 4, 3, 2].map((h, i) => ({ ...deny, time: ago(h), session: `x${i}` })),
      ),
    ),
  );

  it('JSON: counts, first/last seen, last success and top refusals per policy and client', () => {
    const r = audit(['--log', f, '--summary', '--json']);
    const groups = jsonLines(r.stdout);
    expect(groups.map((g) => g.client)).toEqual(['192.0.2.10', '192.0.2.20', '203.0.113.9']);
    expect(groups[0]).toMatchObject({ allowed: 2, refused: 0, failed: 0, succeeded: 2, lastSuccess: { session: 'a2' }, outcomeKnown: true });
    expect(groups[1]).toMatchObject({ allowed: 2, failed: 1, succeeded: 1, lastSuccess: { session: 'b1', time: ago(73) }, first: ago(74), last: ago(25) });
    expect(groups[2]).toMatchObject({ allowed: 0, refused: 4, lastSuccess: null, reasons: [{ reason: 'always-refused --log-file', count: 4 }] });
  });

  it('text: the table, and in words what needs attention', () => {
    const r = audit(['--log', f, '--summary']);
    expect(r.stdout).toMatch(/^POLICY\s+CLIENT\s+ALLOWED\s+REFUSED\s+FAILED\s+FIRST SEEN\s+LAST SEEN\s+LAST SUCCESS\s+TOP REFUSALS$/m);
    expect(r.stdout).toContain('192.0.2.20 (policy backup): no successful session for 3d');
    expect(r.stdout).toContain('203.0.113.9 (policy backup): keeps being refused: always-refused --log-file ×4');
    expect(r.stdout).not.toContain('192.0.2.10 (policy backup): no successful');
    // --stale moves the line
    expect(audit(['--log', f, '--summary', '--stale', '4d']).stdout).not.toContain('no successful session for');
  });
});

describe('client text never reaches the terminal raw', () => {
  // A refused command is logged verbatim, and a client chooses it: an ESC
  // sequence in it must not be replayed on the admin's terminal.
  const evil = {
    time: day('2026-11-26T11:00:00.000Z'),
    event: 'deny' as const,
    session: 'eeee',
    client: { addr: '203.0.113.66', port: 40000 },
    command: 'rsync --server . /\u001b[2J\u001b]0;pwned\u0007 \u202eevil',
    reason: 'control characters (newline, CR, tab, NUL, ESC ...) are refused',
    code: 'shell-syntax',
  };
  // The summary does not print commands, but it prints the options a refusal
  // names, and an unknown option's name is the client's too.
  const evilOption = {
    ...evil,
    session: 'hhhh',
    command: 'rsync --server --x\u001b[2J\u001b]0;pwned\u0007 . /',
    reason: 'unknown option',
    code: 'unknown-option',
    options: ['--x\u001b[2J\u202eevil'],
  };
  // A literal backslash sequence typed by the client (\x1b as four characters)
  // must not look like an escaped ESC; and format characters that are not
  // control characters (Cf: U+061C, U+00AD, U+180E, a tag character) and the
  // paragraph separator reorder or hide text just as well.
  const lookalike = {
    ...evil,
    session: 'iiii',
    client: { addr: '203.0.113.67', port: 40000 },
    command: 'rsync --server . /a\\x1b[2Jb \u061c\u00ad\u180e\u2029\u{e0041}\u2066end',
  };
  const log = join(dir, 'evil.log');
  beforeAll(() => writeFileSync(log, lines(evil, { ...evil, session: 'ffff' }, { ...evil, session: 'gggg' }, evilOption, lookalike)));

  it('a literal "\\x1b" is shown as "\\\\x1b"; every Cf character and U+2029 as an escape', () => {
    const r = audit(['--log', log]);
    expect(r.status, r.stderr).toBe(0);
    // The table cuts the command to its column; --suggest names it whole.
    expect(r.stdout).toContain('/a\\\\x1b[2Jb \\u{61c}\\xad\\u{180e}\\u{2029}');
    expect(r.stdout).not.toMatch(/[\p{Cf}\p{Zl}\p{Zp}]/u);
    const s = audit(['--log', log, '--suggest']);
    expect(s.stdout).toContain('/a\\\\x1b[2Jb \\u{61c}\\xad\\u{180e}\\u{2029}\\u{e0041}\\u{2066}end from 203.0.113.67');
    expect(s.stdout).not.toMatch(/[\p{Cf}\p{Zl}\p{Zp}]/u);
    // What an ESC is shown as, and what the literal text is shown as, differ.
    const shown = r.stdout.split('\n');
    expect(shown.find((l) => l.includes('203.0.113.66'))).toContain(' /\\x1b[2J');
    expect(shown.find((l) => l.includes('203.0.113.67'))).not.toMatch(/[^\\]\\x1b/);
  });

  it.each([
    [[], 'the command', '\\x1b[2J\\x1b]0;pwned\\x07 \\u{202e}evil'],
    [['--summary'], 'the refused option', 'unknown-option --x\\x1b[2J\\u{202e}evil'],
    [['--suggest'], 'the command', '\\x1b[2J\\x1b]0;pwned\\x07 \\u{202e}evil'],
  ])('audit %j shows escapes, not the characters (%s)', (extra, _field, escaped) => {
    const r = audit(['--log', log, ...extra]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(r.stdout).toContain(escaped);
  });

  it('--json keeps the record exactly as logged', () => {
    const r = audit(['--log', log, '--json']);
    expect(JSON.parse(r.stdout.split('\n')[0]!).command).toBe(evil.command);
  });
});

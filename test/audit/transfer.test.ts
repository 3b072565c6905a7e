import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/policy.js';
import { isSuccessStatus, parseTransferLine, TransferJoiner, type AuditRecord } from '../../src/audit/join/transfer.js';
import { rec } from './helpers.js';

const dir = tempDir('gk-audit-transfer-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the real rsync with --log-file; its lines and pid. */
function realRsync(args: string[]): { pid: number; status: number | null; start: number; lines: string[] } {
  const log = join(dir, `rsync-${Math.random().toString(36).slice(2)}.log`);
  const start = Date.now();
  const r = spawnSync('/usr/bin/rsync', [`--log-file=${log}`, ...args], { encoding: 'utf8' });
  return { pid: r.pid!, status: r.status, start, lines: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function join1(start: number, pid: number, lines: string[]): AuditRecord[] {
  const j = new TransferJoiner();
  const allow = rec({ time: new Date(start - 5).toISOString(), pid, transferLog: '/var/log/gatekeeper/rsync.log', event: 'allow' });
  j.onRecord(allow, Date.parse(allow.time));
  const out: AuditRecord[] = [];
  for (const text of lines) {
    const l = parseTransferLine(text);
    if (l) out.push(...j.onLine(l));
  }
  return [...out, ...j.flushAll()];
}

describe('rsync log-file lines (real rsync 3.x output)', () => {
  it('a finished run: bytes and status 0', () => {
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a'), 'x'.repeat(5000));
    const run = realRsync(['-a', `${src}/`, join(dir, 'dst')]);
    expect(run.status).toBe(0);
    const sent = run.lines.map(parseTransferLine).find((l) => l?.kind === 'sent');
    expect(sent).toMatchObject({ pid: run.pid, kind: 'sent' });
    expect(sent!.kind === 'sent' && sent!.sent).toBeGreaterThan(5000);
    const [exit, ...more] = join1(run.start, run.pid, run.lines);
    expect(more).toEqual([]);
    expect(exit).toMatchObject({ event: 'exit', status: 0, pid: run.pid, code: 'transfer-ok' });
    expect(exit!.transfer!.sent).toBe(sent!.kind === 'sent' ? sent!.sent : -1);
  });

  it('a failed run: the status rsync logged (23: some files not transferred)', () => {
    const run = realRsync(['-a', join(dir, 'does-not-exist'), join(dir, 'dst2')]);
    expect(run.status).toBe(23);
    const exits = join1(run.start, run.pid, run.lines);
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ status: 23, code: 'transfer-failed' });
    expect(exits[0]!.transfer!.errors).toBeGreaterThan(0);
  });

  it('line times are local time: the same line means different instants in different zones', () => {
    // parseTransferLine uses the process zone; this process runs with whatever TZ the test runner has.
    const l = parseTransferLine('2026/11/26 00:30:00 [42] sent 1 bytes  received 2 bytes  total size 3');
    expect(l).toMatchObject({ pid: 42, kind: 'sent', sent: 1, received: 2, totalSize: 3 });
    expect(l!.t).toBe(new Date(2026, 10, 26, 0, 30, 0).getTime() + 999);
  });

  it.each([
    ['2026/11/26 13:00:00 [7] sent 1,234 bytes  received 56 bytes  total size 7,890', { kind: 'sent', sent: 1234, received: 56, totalSize: 7890 }],
    ['2026/11/26 13:00:00 [7] sent 1.50K bytes  received 2M bytes  total size 3G', { kind: 'sent', sent: 1536, received: 2 * 1024 ** 2, totalSize: 3 * 1024 ** 3 }],
    ['2026/11/26 13:00:00 [7] rsync error: error in rsync protocol data stream (code 12) at io.c(285) [generator=3.5.0]', { kind: 'status', status: 12 }],
    ['2026/11/26 13:00:00 [7] rsync warning: some files vanished before they could be transferred (code 24) at main.c(1338) [sender=3.5.0]', { kind: 'status', status: 24 }],
    ['2026/11/26 13:00:00 [7] rsync: connection unexpectedly closed (169 bytes received so far) [generator]', { kind: 'error' }],
    ['2026/11/26 13:00:00 [7] >f+++++++++ a', { kind: 'other' }],
  ])('%s', (text, expected) => {
    expect(parseTransferLine(text)).toMatchObject({ pid: 7, ...expected });
  });

  it.each(['', 'sent 1 bytes', '2026/11/26 13:00:00 sent 1 bytes', '2026-11-26 13:00:00 [7] x'])('not a log-file line: %j', (text) => {
    expect(parseTransferLine(text)).toBeNull();
  });
});

describe('TransferJoiner', () => {
  const t0 = new Date(2026, 10, 26, 13, 0, 0).getTime();
  const stamp = (offsetS: number) => {
    const d = new Date(t0 + offsetS * 1000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  };
  const allow = (pid: number, extra: Partial<AuditRecord> = {}) => rec({ time: new Date(t0 + 200).toISOString(), pid, event: 'allow', transferLog: '/t', ...extra });
  const feed = (j: TransferJoiner, texts: string[]) => texts.flatMap((t) => j.onLine(parseTransferLine(t)!));

  it('a run killed outright (no end line) never counts as finished', () => {
    const j = new TransferJoiner();
    const a = allow(100);
    j.onRecord(a, Date.parse(a.time));
    expect([...feed(j, [`${stamp(1)} [100] building file list`, `${stamp(2)} [100] <f+++++++++ a`]), ...j.flushAll()]).toEqual([]);
  });

  it('a sender with errors logs "sent" and no status: a partial transfer (23)', () => {
    const j = new TransferJoiner();
    const a = allow(101);
    j.onRecord(a, Date.parse(a.time));
    const out = [...feed(j, [`${stamp(1)} [101] rsync: [sender] link_stat "/x" failed: No such file or directory (2)`, `${stamp(1)} [101] sent 8 bytes  received 8 bytes  total size 0`]), ...j.flushAll()];
    expect(out).toMatchObject([{ status: 23, session: a.session }]);
    expect(isSuccessStatus(out[0]!.status)).toBe(false);
  });

  it('"sent" then a status line within the same second: one exit with the status and the bytes', () => {
    const j = new TransferJoiner();
    const a = allow(102);
    j.onRecord(a, Date.parse(a.time));
    const out = feed(j, [`${stamp(3)} [102] sent 10 bytes  received 20 bytes  total size 30`, `${stamp(3)} [102] rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]`]);
    expect(out).toMatchObject([{ status: 23, transfer: { sent: 10, received: 20 } }]);
    expect(j.flushAll()).toEqual([]);
  });

  it('"sent" alone finishes once later lines show time has passed', () => {
    const j = new TransferJoiner();
    const a = allow(103);
    j.onRecord(a, Date.parse(a.time));
    expect(feed(j, [`${stamp(1)} [103] sent 10 bytes  received 20 bytes  total size 30`])).toEqual([]);
    expect(feed(j, [`${stamp(10)} [999] building file list`])).toMatchObject([{ status: 0, session: a.session }]);
  });

  it('lines of a pid before the allow record, or of a pid without a transferLog record, are not joined', () => {
    const j = new TransferJoiner();
    const a = allow(104);
    const b = rec({ time: new Date(t0).toISOString(), pid: 105, event: 'allow' }); // no transferLog
    j.onRecord(a, Date.parse(a.time));
    j.onRecord(b, Date.parse(b.time));
    expect(feed(j, [`${stamp(-5)} [104] sent 1 bytes  received 1 bytes  total size 1`, `${stamp(1)} [105] sent 1 bytes  received 1 bytes  total size 1`])).toEqual([]);
    expect(j.flushAll()).toEqual([]);
  });

  it('a reused pid belongs to the newer session', () => {
    const j = new TransferJoiner();
    const first = allow(106);
    j.onRecord(first, Date.parse(first.time));
    const second = rec({ time: new Date(t0 + 5000).toISOString(), pid: 106, event: 'allow', transferLog: '/t' });
    j.onRecord(second, Date.parse(second.time));
    expect(feed(j, [`${stamp(6)} [106] rsync error: error in rsync protocol data stream (code 12) at io.c(285) [generator=3.5.0]`])).toMatchObject([{ session: second.session, status: 12 }]);
  });

  it('one pid on two hosts at once: neither session gets the lines (they name no host), and the pid joins again once one host runs it alone', () => {
    const j = new TransferJoiner();
    const onA = allow(107, { hostname: 'web-1' });
    j.onRecord(onA, Date.parse(onA.time));
    const onB = rec({ time: new Date(t0 + 5000).toISOString(), pid: 107, event: 'allow', transferLog: '/t', hostname: 'web-2' });
    j.onRecord(onB, Date.parse(onB.time));
    expect([...feed(j, [`${stamp(6)} [107] sent 1 bytes  received 1 bytes  total size 1`, `${stamp(6)} [107] rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]`]), ...j.flushAll()]).toEqual([]);
    // A day later web-2 runs pid 107 again: joined as usual.
    const later = rec({ time: new Date(t0 + 90_000_000).toISOString(), pid: 107, event: 'allow', transferLog: '/t', hostname: 'web-2' });
    j.onRecord(later, Date.parse(later.time));
    expect(feed(j, [`${stamp(90_001)} [107] rsync error: error in rsync protocol data stream (code 12) at io.c(285) [generator=3.5.0]`])).toMatchObject([{ session: later.session, hostname: 'web-2', status: 12 }]);
  });

  it('the spawn fallback\'s exit record naming rsync\'s pid is passed on, once its second is over, with the bytes rsync logged', () => {
    const j = new TransferJoiner();
    const a = allow(108);
    expect(j.onRecord(a, Date.parse(a.time))).toBe(false);
    // rsync (pid 4108, the gate's child) logs under its own pid, stamped to the whole second.
    expect(feed(j, [`${stamp(2)} [4108] rsync: [sender] read errors mapping "/x": Input/output error (5)`])).toEqual([]);
    const exit = rec({ time: new Date(t0 + 3100).toISOString(), pid: 108, session: a.session, event: 'exit', status: 23, exec: 'spawn', rsyncPid: 4108 });
    expect(j.onRecord(exit, Date.parse(exit.time))).toBe(true);
    // Its last line comes later in time order than the record (13:00:03.999 against 13:00:03.100).
    expect(feed(j, [`${stamp(3)} [4108] sent 10 bytes  received 20 bytes  total size 30`])).toEqual([]);
    const out = feed(j, [`${stamp(5)} [999] building file list`]);
    expect(out).toEqual([{ ...exit, transfer: { sent: 10, received: 20, totalSize: 30, errors: 1, firstError: '[sender] read errors mapping "/x": Input/output error (5)' } }]);
    expect(j.flushAll()).toEqual([]);
  });

  it('a held exit record whose rsync logged nothing (or only before the session) is passed on as it was', () => {
    const j = new TransferJoiner();
    const a = allow(109);
    feed(j, [`${stamp(-30)} [4109] sent 1 bytes  received 1 bytes  total size 1`]); // an older run with that pid
    j.onRecord(a, Date.parse(a.time));
    const exit = rec({ time: new Date(t0 + 3000).toISOString(), pid: 109, session: a.session, event: 'exit', status: 0, exec: 'spawn', rsyncPid: 4109 });
    expect(j.onRecord(exit, Date.parse(exit.time))).toBe(true);
    expect(j.flushAll()).toEqual([exit]);
  });

  it('the spawn fallback\'s own exit record closes the session (no double count)', () => {
    const j = new TransferJoiner();
    const a = allow(107);
    j.onRecord(a, Date.parse(a.time));
    const exit = rec({ time: new Date(t0 + 3000).toISOString(), pid: 107, session: a.session, event: 'exit', status: 0 });
    j.onRecord(exit, Date.parse(exit.time));
    expect([...feed(j, [`${stamp(3)} [107] sent 1 bytes  received 1 bytes  total size 1`]), ...j.flushAll()]).toEqual([]);
  });
});

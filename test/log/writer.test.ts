// The writer's line is the contract audit reads: pino's line (record.ts,
// version 2), one write() per record, nothing left pending, and read back by
// parseRecordLine as the record the gate meant.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseRecordLine, RecordLineSchema, RECORD_VERSION, type GateEntry } from '../../src/log/record.js';
import { openFileLog, sinkFor } from '../../src/log/writer.js';
import { tempDir } from '../helpers/policy.js';

const dir = tempDir('gk-writer-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: GateEntry = {
  v: RECORD_VERSION,
  event: 'allow',
  policy: 'system-backup',
  session: '0123456789abcdef',
  user: 'root',
  client: { addr: '192.0.2.7', port: 50022 },
  server: { addr: '192.0.2.1', port: 22 },
  key: 'ssh-ed25519 SHA256:abc',
  command: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /',
  argv: ['/usr/bin/rsync', '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', './'],
  reason: 'allowed: pull (the server sends)',
  code: 'allowed',
  exec: 'execve',
};

function linesOf(entries: GateEntry[]): string[] {
  const lines: string[] = [];
  const sink = sinkFor((l) => lines.push(l));
  for (const e of entries) sink.write(e);
  return lines;
}

describe('sinkFor (pino)', () => {
  it.each([
    ['allow', 30],
    ['exit', 30],
    ['deny', 40],
    ['error', 50],
  ] as const)("%s is written at pino's level %i, with pino's time, pid and hostname first", (event, level) => {
    const before = Date.now();
    const [line] = linesOf([{ ...base, event }]);
    expect(line).toMatch(new RegExp(`^\\{"level":${level},"time":\\d+,"pid":${process.pid},"hostname":`));
    const parsed = RecordLineSchema.parse(JSON.parse(line!));
    expect(parsed).toMatchObject({ level, pid: process.pid, hostname: hostname(), v: 2, event, msg: base.reason });
    expect(parsed.time).toBeGreaterThanOrEqual(before);
    expect(parsed.time).toBeLessThanOrEqual(Date.now());
  });

  it('writes one newline-terminated line per record that audit reads back as the record meant', () => {
    // Client-chosen text with a newline, quotes, escapes, a format directive and non-ASCII stays on one line, verbatim.
    const entry: GateEntry = { ...base, event: 'deny', command: 'rsync --server . "/x\ny" \\ grüße %s %d \u2028', argv: null, status: 77, reason: 'refused: "%s" %j %%' };
    const lines = linesOf([entry]);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\n\r]/);
    const r = parseRecordLine(line.slice(0, -1));
    const { reason, ...fields } = entry;
    expect(r).toMatchObject({ ...fields, reason, pid: process.pid, hostname: hostname() });
    expect(Date.parse(r!.time)).toBe(JSON.parse(line).time);
  });

  it('leaves out fields that are undefined', () => {
    const [line] = linesOf([{ ...base, wouldDeny: undefined }]);
    expect(line).not.toContain('wouldDeny');
  });
});

describe('openFileLog', () => {
  it('has the line in the file when write() returns, and leaves nothing pending (execve may follow at once)', () => {
    const file = join(dir, 'sync.log');
    const resources = process.getActiveResourcesInfo().sort();
    const sink = openFileLog(file);
    sink.write(base);
    // No await, no tick: the record is already in the file.
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    expect(parseRecordLine(text.trimEnd())).toMatchObject({ session: base.session, reason: base.reason });
    sink.write({ ...base, event: 'deny', reason: 'second' });
    sink.close();
    // No stream, timer, worker or pending write was started by pino.
    expect(process.getActiveResourcesInfo().sort()).toEqual(resources);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => parseRecordLine(l)?.reason)).toEqual([base.reason, 'second']);
  });

  it('appends, never truncates, and never follows a symlink', () => {
    const file = join(dir, 'append.log');
    writeFileSync(file, 'older line\n');
    const sink = openFileLog(file);
    sink.write(base);
    sink.close();
    expect(readFileSync(file, 'utf8').startsWith('older line\n{"level":30,')).toBe(true);
    const link = join(dir, 'link.log');
    symlinkSync(file, link);
    expect(() => openFileLog(link)).toThrow(/ELOOP/);
  });
});

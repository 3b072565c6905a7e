// The writer's line is the contract audit reads: what formatRecord writes,
// parseRecordLine must take back unchanged, one line per record.
import { describe, expect, it } from 'vitest';
import { parseRecordLine, RECORD_VERSION, type LogRecord } from '../../src/log/record.js';
import { formatRecord, sinkFor } from '../../src/log/writer.js';

const base: LogRecord = {
  v: RECORD_VERSION,
  time: '2026-11-26T12:00:00.000Z',
  event: 'allow',
  policy: 'system-backup',
  session: '0123456789abcdef',
  pid: 4242,
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

describe('formatRecord', () => {
  it.each([
    ['allow', 'info'],
    ['exit', 'info'],
    ['deny', 'warn'],
    ['error', 'error'],
  ] as const)('%s is written at level %s, first in the line', (event, level) => {
    const line = formatRecord({ ...base, event });
    expect(line.startsWith(`{"level":"${level}",`)).toBe(true);
  });

  it('writes one newline-terminated line that audit reads back as the same record', () => {
    // Client-chosen text with a newline, quotes, escapes and non-ASCII must stay on one line.
    const record: LogRecord = { ...base, event: 'deny', command: 'rsync --server . "/x\ny" \\ grüße \u2028', argv: null, status: 77 };
    const line = formatRecord(record);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/\n/);
    expect(parseRecordLine(line.slice(0, -1))).toEqual(record);
  });

  it('leaves out fields that are undefined', () => {
    const line = formatRecord({ ...base, wouldDeny: undefined });
    expect(line).not.toContain('wouldDeny');
  });

  it('sinkFor hands each record to the line function as formatted', () => {
    const lines: string[] = [];
    const sink = sinkFor((l) => lines.push(l));
    sink.write(base);
    sink.write({ ...base, event: 'error', reason: 'x' });
    expect(lines).toEqual([formatRecord(base), formatRecord({ ...base, event: 'error', reason: 'x' })]);
  });
});

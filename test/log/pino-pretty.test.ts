// A log written by the real gate (the built bundle, as sshd runs it) is a pino
// log: pino-pretty, pino's own viewer, renders every record with its level,
// message, pid and host name, and each line parses with the record schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RecordLineSchema } from '../../src/log/record.js';
import { tempDir, writePolicy } from '../helpers/policy.js';
import { ROOT, runGate } from '../audit/helpers.js';

const PINO_PRETTY = join(ROOT, 'node_modules', '.bin', 'pino-pretty');
const dir = tempDir('gk-pino-pretty-');
const policies = join(dir, 'policies');
const log = join(dir, 'gatekeeper.log');

beforeAll(() => {
  mkdirSync(policies, { mode: 0o700 });
  writePolicy(policies, { root: dir, log }, 'backup.json');
  writePolicy(policies, { root: join(dir, 'gone'), log }, 'broken.json');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the gate writes a pino log', () => {
  const runs = [
    { policy: 'backup', command: 'true', status: 0, level: 'INFO', msg: /allowed/ },
    { policy: 'backup', command: 'rsync --server -logDtpre.iLsfxCIvu . /', status: 77, level: 'WARN', msg: /read-only/ },
    { policy: 'broken', command: 'rsync --server --sender -logDtpre.iLsfxCIvu . /', status: 78, level: 'ERROR', msg: /gone/ },
  ];

  beforeAll(() => {
    for (const r of runs) {
      const run = runGate(policies, r.policy, r.command, { client: '203.0.113.9' });
      expect(run.status, run.stderr).toBe(r.status);
      expect(run.stdout).toBe('');
    }
  });

  it('every line parses with the record schema, with the numeric level, host name and reason as msg', () => {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(runs.length);
    const records = lines.map((l) => RecordLineSchema.parse(JSON.parse(l)));
    expect(records.map((r) => r.level)).toEqual([30, 40, 50]);
    expect(records.map((r) => r.event)).toEqual(['allow', 'deny', 'error']);
    for (const [i, r] of records.entries()) {
      expect(r.hostname).toBe(hostname());
      expect(r.msg).toMatch(runs[i]!.msg);
      expect(r.client).toEqual({ addr: '203.0.113.9', port: 50000 });
    }
  });

  it('pino-pretty renders each record: level, msg, pid and host name', () => {
    // pino-pretty hides hostname by default; --ignore v shows it (and hides the schema version).
    const r = spawnSync(PINO_PRETTY, ['--colorize', 'false', '--ignore', 'v', '--singleLine'], { input: readFileSync(log), encoding: 'utf8', env: { PATH: '/usr/bin:/bin', TZ: 'UTC' } });
    expect(r.status, r.stderr).toBe(0);
    const rendered = r.stdout.trimEnd().split('\n');
    expect(rendered).toHaveLength(runs.length);
    const records = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => RecordLineSchema.parse(JSON.parse(l)));
    for (const [i, line] of rendered.entries()) {
      const rec = records[i]!;
      const time = new Date(rec.time).toISOString().slice(11, 23);
      expect(line.startsWith(`[${time}] ${runs[i]!.level} (${rec.pid} on ${hostname()}): ${rec.msg} {`)).toBe(true);
      expect(line).toContain(`"policy":"${runs[i]!.policy}"`);
    }
  });
});

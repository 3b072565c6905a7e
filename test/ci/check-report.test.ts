// .ci/check-report.mjs, which makes CI fail on a skipped or todo test, run on
// fabricated vitest JSON reports (the shape vitest's json reporter writes).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/policy.js';

const SCRIPT = join(import.meta.dirname, '..', '..', '.ci', 'check-report.mjs');
const dir = tempDir('gk-ci-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Status = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
function report(tests: [Status, string][]): string {
  const count = (s: Status[]) => tests.filter(([t]) => s.includes(t)).length;
  const r = {
    numTotalTests: tests.length,
    numPassedTests: count(['passed']),
    numFailedTests: count(['failed']),
    numPendingTests: count(['skipped', 'pending']),
    numTodoTests: count(['todo']),
    success: count(['failed']) === 0,
    testResults: [{ name: '/repo/test/x.test.ts', assertionResults: tests.map(([status, fullName]) => ({ status, fullName, title: fullName })) }],
  };
  const file = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(r));
  return file;
}
function check(tests: [Status, string][], allowed = '') {
  const list = join(dir, `allowed-${Math.random().toString(36).slice(2)}`);
  writeFileSync(list, allowed);
  const r = spawnSync(process.execPath, [SCRIPT, report(tests), list], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('.ci/check-report.mjs', () => {
  it('passes a run where every test ran and passed, and prints the totals', () => {
    const r = check([['passed', 'a works'], ['passed', 'b works']]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('2 passed, 0 failed\n');
  });

  it.each<Status>(['skipped', 'pending', 'todo'])('fails a run with a %s test, naming it', (status) => {
    const r = check([['passed', 'a works'], [status, 'suite b needs rrsync']]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${status}: suite b needs rrsync (/repo/test/x.test.ts)`);
  });

  it('lets a test on the allow-list skip (comments and blank lines ignored), and no other', () => {
    const allowed = '# why: the arm64 runner has no qemu\nsuite b needs rrsync   # rrsync is not packaged there\n\n';
    expect(check([['passed', 'a works'], ['skipped', 'suite b needs rrsync']], allowed).status).toBe(0);
    const r = check([['skipped', 'suite b needs rrsync'], ['skipped', 'suite c']], allowed);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('skipped: suite c');
    expect(r.stderr).not.toContain('suite b');
  });

  it('fails a run with a failed test even when nothing was skipped', () => {
    expect(check([['passed', 'a'], ['failed', 'b']]).status).toBe(1);
  });

  it('the repository\'s allow-list is empty (comments only)', () => {
    const r = spawnSync(process.execPath, [SCRIPT, report([['skipped', 'anything']])], { encoding: 'utf8' });
    expect(r.status).toBe(1);
  });
});

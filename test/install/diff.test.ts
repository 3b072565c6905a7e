import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../src/install/diff.js';

const tmp = mkdtempSync(join(tmpdir(), 'gk-diff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Apply a diff with GNU patch: the independent judge of what our diff says. */
function patched(before: string, diff: string): string {
  const file = join(tmp, 'f');
  writeFileSync(file, before);
  const r = spawnSync('/usr/bin/patch', ['-s', '--no-backup-if-mismatch', '-r', '-', file], { input: diff, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`patch failed: ${r.stdout}${r.stderr}\n${diff}`);
  return readFileSync(file, 'utf8');
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => expect(unifiedDiff('a\n', 'a\n', 'x', 'y')).toBe(''));

  it('matches diff -u for a one-line change', () => {
    const a = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\n';
    const b = a.replace('four', 'FOUR');
    expect(unifiedDiff(a, b, 'a', 'b')).toBe('--- a\n+++ b\n@@ -1,7 +1,7 @@\n one\n two\n three\n-four\n+FOUR\n five\n six\n seven\n');
    writeFileSync(join(tmp, 'a'), a);
    writeFileSync(join(tmp, 'b'), b);
    const gnu = spawnSync('/usr/bin/diff', ['-u', '--label', 'a', '--label', 'b', join(tmp, 'a'), join(tmp, 'b')], { encoding: 'utf8' });
    expect(unifiedDiff(a, b, 'a', 'b')).toBe(gnu.stdout);
  });

  it('patch turns before into after (property)', () => {
    const line = fc.constantFrom('a', 'b', 'c', 'PermitRootLogin no', '', '# x');
    const text = fc.tuple(fc.array(line, { maxLength: 30 }), fc.boolean()).map(([ls, nl]) => (ls.length ? ls.join('\n') + (nl ? '\n' : '') : ''));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = unifiedDiff(a, b, 'f', 'f');
        if (a === b) expect(d).toBe('');
        else expect(patched(a, d)).toBe(b);
      }),
      { numRuns: 150 },
    );
  });
});

// lintian, Debian's package checker, on the .deb: clean at every severity,
// pedantic and informational tags included, with the overrides the
// self-contained binary needs (scripts/lib/gatekeeper.lintian-overrides).
// And the executable's glibc need, which the docs, doctor and the .deb's
// Depends state, checked against the file itself.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { PACKAGE } from '../../scripts/lib/package-files.mjs';
import { GLIBC_NEEDED } from '../../src/doctor/checks.js';
import { artefact, executable, VERSION } from './helpers.js';

describe('the .deb under lintian', { timeout: 20 * 60_000 }, () => {
  it('has no tag left at any severity, and every override is used', () => {
    const deb = artefact(`gatekeeper_${VERSION}_amd64.deb`);
    // A stale override shows as the informational tag unused-override.
    const r = spawnSync('/usr/bin/lintian', ['--tag-display-limit', '0', '--display-info', '--pedantic', '--fail-on', 'error,warning,info,pedantic', deb], { encoding: 'utf8', timeout: 15 * 60_000, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
    const tags = r.stdout.split('\n').filter((l) => /^[EWIPX]: /.test(l));
    expect(tags, r.stderr).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe("the executable's glibc need", () => {
  it(`is GLIBC_${GLIBC_NEEDED}: its newest versioned glibc symbol, and the .deb's libc6 dependency`, () => {
    const r = spawnSync('/usr/bin/objdump', ['-T', executable('x64')], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const versions = [...new Set([...r.stdout.matchAll(/\bGLIBC_(\d+\.\d+(?:\.\d+)?)\b/g)].map((m) => m[1]!))];
    const newest = versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
    expect(newest).toBe(GLIBC_NEEDED);
    expect(PACKAGE.debLibraryDepends).toContain(`libc6 (>= ${GLIBC_NEEDED})`);
  });
});

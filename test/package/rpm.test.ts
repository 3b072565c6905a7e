// The .rpm, read with rpm -qp (metadata, requirements, file list, the
// removal scriptlet) and installed into a scratch root, where its binary runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARY, PACKAGE, packageFiles, removalCheck } from '../../scripts/lib/package-files.mjs';
import { REPO } from '../helpers/gate.js';
import { artefact, executable, VERSION } from './helpers.js';

const RPM = '/usr/bin/rpm';

function rpm(args: string[]) {
  const r = spawnSync(RPM, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LANG: 'C' }, timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the .rpm', { timeout: 20 * 60_000 }, () => {
  let file: string;
  let root: string;

  beforeAll(() => {
    file = artefact(`gatekeeper-${VERSION}-1.x86_64.rpm`);
    root = mkdtempSync(join(tmpdir(), 'gk-rpm-root-'));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('names itself, its licence and what it needs (rsync, openssh-server, glibc 2.28 at most)', () => {
    const q = rpm(['-qp', '--queryformat', '%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{SUMMARY}', file]);
    expect(q.status, q.stderr).toBe(0);
    expect(q.stdout).toBe(`gatekeeper|${VERSION}|1|x86_64|MIT|${PACKAGE.summary}`);
    const requires = rpm(['-qp', '--requires', file]).stdout.split('\n');
    expect(requires).toEqual(expect.arrayContaining(['rsync', 'openssh-server', 'libc.so.6(GLIBC_2.28)(64bit)']));
    const glibc = requires.map((r) => /^libc\.so\.6\(GLIBC_([\d.]+)\)/.exec(r)?.[1]).filter((v): v is string => v !== undefined);
    const newest = glibc.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
    expect(newest, 'the newest glibc symbol: docs and doctor say 2.28').toBe('2.28');
    expect(rpm(['-qp', '--provides', file]).stdout.trim()).toBe(`gatekeeper = ${VERSION}-1\ngatekeeper(x86-64) = ${VERSION}-1`);
  });

  it('lists exactly the file list, with docs and licence marked, all root-owned', () => {
    const q = rpm(['-qp', '--queryformat', '[%{FILENAMES} %{FILEMODES:octal} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\\n]', file]);
    expect(q.status, q.stderr).toBe(0);
    const rows = Object.fromEntries(q.stdout.trim().split('\n').map((l) => { const [p, ...rest] = l.split(' '); return [p!, rest.join(' ')]; }));
    const files = packageFiles(REPO, '/x').filter((f) => f.only !== 'deb');
    const expected: Record<string, string> = {};
    for (const f of files) {
      const path = f.kind === 'license' ? `/usr/share/licenses/${PACKAGE.name}/LICENSE` : f.path!;
      expected[path] = `100${f.mode.toString(8)} root:root ${f.kind === 'doc' || f.kind === 'man' ? 'd' : f.kind === 'license' ? 'l' : ''}`.trimEnd();
    }
    const filesOnly = Object.fromEntries(Object.entries(rows).filter(([, v]) => v.startsWith('100')).map(([k, v]) => [k, v.trimEnd()]));
    expect(filesOnly).toEqual(expected);
    expect(Object.keys(rows).filter((p) => !(p in expected)).sort()).toEqual(['/usr/share/doc/gatekeeper', '/usr/share/gatekeeper', '/usr/share/gatekeeper/policies', `/usr/share/licenses/${PACKAGE.name}`]);
  });

  it('its %preun is the shared removal check, on removal only', () => {
    const s = rpm(['-qp', '--scripts', file]).stdout;
    expect(s).toContain('preuninstall scriptlet (using /bin/sh):');
    expect(s).toContain('if [ "$1" -eq 0 ]; then');
    for (const line of removalCheck()) expect(s).toContain(line);
    expect(s).not.toMatch(/postinstall|preinstall scriptlet|postuninstall/);
  });

  it('installs into a scratch root (rpm --root --nodeps), where its binary runs, and erases cleanly', () => {
    const i = rpm(['--root', root, '--nodeps', '-i', file]);
    expect(i.status, i.stderr).toBe(0);
    const bin = join(root, BINARY.slice(1));
    expect(readFileSync(bin).equals(readFileSync(executable('x64')))).toBe(true);
    expect(statSync(bin).mode & 0o7777).toBe(0o755);
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(v.stdout.trim()).toBe(VERSION);
    const check = spawnSync(bin, ['check', '--policy', join(root, 'usr/share/gatekeeper/policies/system-backup.yaml'), '--', 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(check.stdout + check.stderr).toContain('allowed: pull');
    expect(rpm(['--root', root, '-q', 'gatekeeper']).stdout.trim()).toBe(`gatekeeper-${VERSION}-1.x86_64`);
    // The scriptlet runs chrooted, where the scratch root has no /bin/sh: erase without it (the .deb test runs the same check for real).
    const e = rpm(['--root', root, '--noscripts', '-e', 'gatekeeper']);
    expect(e.status, e.stderr).toBe(0);
    expect(existsSync(bin)).toBe(false);
    expect(existsSync(join(root, 'usr/share/gatekeeper'))).toBe(false);
  });
});

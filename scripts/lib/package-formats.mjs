// The .deb and the .rpm, both from one file list (package-files.mjs).
// Fast compression on purpose (gzip): the payload is one ~110 MB executable
// and npm test builds the packages on every run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BINARY, DOC, PACKAGE, packageFiles, removalCheck } from './package-files.mjs';

/** When the packaged sources were last changed (the commit's time), for reproducible dates. */
function sourceDate(root) {
  if (process.env.SOURCE_DATE_EPOCH) return new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000);
  try {
    return new Date(Number(execFileSync('/usr/bin/git', ['-C', root, 'log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim()) * 1000);
  } catch {
    return new Date();
  }
}

/** Copy `from` to `stage`+`path`, creating 0755 directories on the way. */
function place(stage, path, from, mode) {
  const to = join(stage, path);
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  if (typeof from === 'string') copyFileSync(from, to);
  else writeFileSync(to, from);
  chmodSync(to, mode);
  return to;
}

/** A file's bytes as packaged: man pages gzipped (no name or time in the header: reproducible), the rest as is. */
function contents(f) {
  return f.kind === 'man' ? gzipSync(readFileSync(f.from), { level: 9 }) : f.from;
}

/** Debian's machine-readable copyright file (copyright-format 1.0) with the licence text. */
function debianCopyright(licenseText) {
  const body = licenseText.trim().split('\n').slice(2); // without the "MIT License" title and blank line
  const holder = body.find((l) => l.startsWith('Copyright'))?.replace(/^Copyright \(c\) /, '') ?? 'The gatekeeper authors';
  const text = body.filter((l) => !l.startsWith('Copyright')).join('\n').trim();
  const indented = text.split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l}`)).join('\n');
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${PACKAGE.name}`,
    '',
    'Files: *',
    `Copyright: ${holder}`,
    'License: Expat',
    '',
    'Files: usr/bin/gatekeeper',
    `Copyright: ${holder}`,
    'License: Expat',
    'Comment: The executable embeds the Node.js runtime (https://nodejs.org/),',
    ' whose own licence (MIT, with those of its bundled components) is in',
    ' Node.js\'s LICENSE file.',
    '',
    'License: Expat',
    indented,
    '',
  ].join('\n');
}

/** Debian changelog (native package: changelog.gz), one entry for this version. */
function debianChangelog(version, date) {
  const rfc2822 = date.toUTCString().replace(/GMT$/, '+0000').replace(/^(\w+), (\d+) /, (_, d, n) => `${d}, ${n.padStart(2, '0')} `);
  return `${PACKAGE.name} (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${PACKAGE.maintainer}  ${rfc2822}\n`;
}

/** gatekeeper_VERSION_amd64.deb with dpkg-deb (files owned by root:root with --root-owner-group; no fakeroot needed). */
export function buildDeb({ root, out, work, version, executable }) {
  const stage = join(work, 'deb');
  const date = sourceDate(root);
  let bytes = 0;
  const placed = [];
  for (const f of packageFiles(root, executable).filter((x) => x.only !== 'rpm')) {
    const path = f.kind === 'license' ? `${DOC}/copyright` : f.path;
    const data = f.kind === 'license' ? Buffer.from(debianCopyright(readFileSync(f.from, 'utf8'))) : contents(f);
    placed.push({ path, file: place(stage, path, data, f.mode) });
  }
  placed.push({ path: `${DOC}/changelog.gz`, file: place(stage, `${DOC}/changelog.gz`, gzipSync(debianChangelog(version, date), { level: 9 }), 0o644) });
  // Every lintian tag the self-contained executable cannot avoid, each with its reason.
  const overrides = `/usr/share/lintian/overrides/${PACKAGE.name}`;
  placed.push({ path: overrides, file: place(stage, overrides, readFileSync(join(root, 'scripts', 'lib', 'gatekeeper.lintian-overrides')), 0o644) });
  for (const p of placed) bytes += Math.ceil(statSync(p.file).size / 1024);
  const control = join(stage, 'DEBIAN');
  mkdirSync(control, { mode: 0o755 });
  writeFileSync(
    join(control, 'control'),
    [
      `Package: ${PACKAGE.name}`,
      `Version: ${version}`,
      'Architecture: amd64',
      `Maintainer: ${PACKAGE.maintainer}`,
      `Installed-Size: ${bytes}`,
      `Depends: ${[...PACKAGE.debLibraryDepends, ...PACKAGE.depends].join(', ')}`,
      `Section: ${PACKAGE.section}`,
      'Priority: optional',
      `Description: ${PACKAGE.summary}`,
      ...PACKAGE.description.map((l) => (l === '' ? ' .' : ` ${l}`)),
      '',
    ].join('\n'),
  );
  writeFileSync(join(control, 'md5sums'), placed.map((p) => `${createHash('md5').update(readFileSync(p.file)).digest('hex')}  ${p.path.slice(1)}\n`).sort().join(''));
  writeFileSync(join(control, 'prerm'), ['#!/bin/sh', '# Refuse removal while a forced command still runs the packaged binary (package-files.mjs).', 'set -e', 'if [ "$1" = remove ]; then', ...removalCheck().map((l) => `  ${l}`), 'fi', 'exit 0', ''].join('\n'), { mode: 0o755 });
  chmodSync(join(control, 'prerm'), 0o755);
  const deb = join(out, `${PACKAGE.name}_${version}_amd64.deb`);
  execFileSync('/usr/bin/dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SOURCE_DATE_EPOCH: String(Math.floor(date.getTime() / 1000)) } });
  return deb;
}

/** gatekeeper-VERSION-1.x86_64.rpm with rpmbuild, in a scratch _topdir (and HOME: no ~/.rpmmacros). */
export function buildRpm({ root, out, work, version, executable }) {
  const top = join(work, 'rpm');
  const stage = join(work, 'rpm-stage');
  for (const d of ['BUILD', 'RPMS', 'SOURCES', 'SPECS', 'SRPMS', 'BUILDROOT', 'tmp']) mkdirSync(join(top, d), { recursive: true });
  const date = sourceDate(root);
  const lines = [];
  for (const f of packageFiles(root, executable).filter((x) => x.only !== 'deb')) {
    const path = f.kind === 'license' ? `/usr/share/licenses/${PACKAGE.name}/LICENSE` : f.path;
    place(stage, path, contents(f), f.mode);
    const tag = f.kind === 'doc' ? '%doc ' : f.kind === 'license' ? '%license ' : '';
    lines.push(`${tag}%attr(${f.mode.toString(8).padStart(4, '0')},root,root) ${path}`);
  }
  const day = date.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+).*$/, (_, d, n, m, y) => `${d} ${m} ${n.padStart(2, '0')} ${y}`);
  const spec = [
    `Name: ${PACKAGE.name}`,
    `Version: ${version}`,
    'Release: 1',
    `Summary: ${PACKAGE.summary}`,
    `License: ${PACKAGE.license}`,
    `Requires: ${PACKAGE.depends.join(', ')}`,
    // The executable's own needs (glibc 2.28 and the C++ runtime) come from its ELF header; it provides nothing.
    'AutoProv: no',
    '',
    '%description',
    ...PACKAGE.description,
    '',
    '%install',
    `cp -a ${stage}/. %{buildroot}/`,
    '',
    '%files',
    `%dir /usr/share/${PACKAGE.name}`,
    `%dir /usr/share/${PACKAGE.name}/policies`,
    `%dir ${DOC}`,
    `%dir /usr/share/licenses/${PACKAGE.name}`,
    ...lines,
    '',
    '%preun',
    '# $1 is 0 when the package is removed, 1 on an upgrade.',
    'if [ "$1" -eq 0 ]; then',
    ...removalCheck().map((l) => `  ${l}`),
    'fi',
    '',
    '%changelog',
    `* ${day} ${PACKAGE.maintainer} - ${version}-1`,
    `- Release ${version}.`,
    '',
  ].join('\n');
  const specFile = join(top, 'SPECS', `${PACKAGE.name}.spec`);
  writeFileSync(specFile, spec);
  const define = (k, v) => ['--define', `${k} ${v}`];
  execFileSync(
    '/usr/bin/rpmbuild',
    [
      '-bb',
      '--quiet',
      '--target', 'x86_64-linux',
      ...define('_topdir', top),
      ...define('_tmppath', join(top, 'tmp')),
      // Fast payload compression; the binary is packaged as built: no strip, no debuginfo, no build-id links.
      ...define('_binary_payload', 'w1.gzdio'),
      ...define('__os_install_post', '%{nil}'),
      ...define('debug_package', '%{nil}'),
      ...define('_build_id_links', 'none'),
      ...define('__strip', '/bin/true'),
      specFile,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: '/usr/bin:/bin', HOME: work, SOURCE_DATE_EPOCH: String(Math.floor(date.getTime() / 1000)), LANG: 'C' } },
  );
  const name = `${PACKAGE.name}-${version}-1.x86_64.rpm`;
  const rpm = join(out, name);
  copyFileSync(join(top, 'RPMS', 'x86_64', name), rpm);
  return rpm;
}

export { BINARY };

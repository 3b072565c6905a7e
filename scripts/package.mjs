// `npm run package`: what a server installs, into dist/pkg/ (build outputs,
// never committed):
// - gatekeeper-VERSION-linux-x64 and -linux-arm64: self-contained
//   executables (Node single executable applications, scripts/lib/executable.mjs)
//   built from the Node 24 that `npm ci` installs and its arm64 twin
//   (scripts/runtimes.sh);
// - gatekeeper_VERSION_amd64.deb and gatekeeper-VERSION-1.x86_64.rpm, both
//   from one file list (scripts/lib/package-files.mjs);
// - SHA256SUMS of all of them.
//
// Usage: node scripts/package.mjs   (after npm run build, which empties dist/)
// It fetches the arm64 runtime itself (scripts/runtimes.sh, a no-op when the
// lock file's runtimes are already there), so docs/packages.md's
// `npm ci && npm run build && npm run package` works on a fresh clone.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExecutables } from './lib/executable.mjs';
import { buildDeb, buildRpm } from './lib/package-formats.mjs';
import { COMPLETIONS } from './lib/package-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'pkg');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const started = Date.now();
const say = (m) => process.stderr.write(`package: ${m} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

function sha256sums(files) {
  const lines = files.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${f.slice(out.length + 1)}\n`);
  writeFileSync(join(out, 'SHA256SUMS'), lines.join(''));
}

execFileSync('/bin/bash', [join(root, 'scripts', 'runtimes.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(dist, '.package-'));
try {
  const executables = await buildExecutables({ root, dist, out, work, version, say });
  const files = executables.map((e) => e.file);
  const exe = executables.find((e) => e.arch === 'x64').file;
  // The completion scripts, from the bundle's own commander tree.
  mkdirSync(join(dist, 'completion'), { recursive: true });
  for (const c of COMPLETIONS) writeFileSync(join(dist, 'completion', c.file), execFileSync(process.execPath, [join(dist, 'gatekeeper.mjs'), 'completion', c.shell]));
  files.push(buildDeb({ root, out, work, version, executable: exe }));
  say('deb');
  files.push(buildRpm({ root, out, work, version, executable: exe }));
  say('rpm');
  sha256sums(files);
  say(`dist/pkg: ${files.map((f) => f.slice(out.length + 1)).join(', ')}, SHA256SUMS`);
} catch (e) {
  process.stderr.write(`package: ${e.message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

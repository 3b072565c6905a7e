// `npm run package`: what a server installs, into dist/pkg/ (build outputs,
// never committed):
// - gatekeeper-VERSION-linux-x64 and -linux-arm64: self-contained
//   executables (Node single executable applications) built from the Node 24
//   that `npm ci` installs and its arm64 twin (scripts/runtimes.sh);
// - gatekeeper_VERSION_amd64.deb and gatekeeper-VERSION-1.x86_64.rpm, both
//   from one file list (scripts/lib/package-files.mjs);
// - SHA256SUMS of all of them.
//
// Usage: node scripts/package.mjs   (after npm run build)
//
// The executable: Node runs one CommonJS file as its main (dist/sea/main.cjs,
// src/sea/main.ts), whose require() loads built-ins only; everything else is
// carried as node:sea assets: the CLI (dist/sea/cli.cjs), the gate's chunks
// (compiled with the gate's own code cache, as gate.cjs does), the templates
// and the shipped policies. No startup snapshot and no useCodeCache: a
// prototype measured snapshots 1.27-1.71x slower (they keep the heap, not the
// compiled code) and useCodeCache over the whole bundle no faster.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDeb, buildRpm } from './lib/package-formats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'pkg');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const started = Date.now();
const say = (m) => process.stderr.write(`package: ${m} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

/** Node's fuse that tells a node binary it carries an application (Node's single-executable-applications docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** The Node runtime each executable embeds; both must be the same version. */
export const RUNTIMES = {
  x64: join(root, 'node_modules', 'node', 'bin', 'node'),
  arm64: join(root, 'runtimes', 'node_modules', 'node24-linux-arm64', 'bin', 'node'),
};
/** binutils' strip for each CPU (scripts/system-deps.sh). */
const STRIP = { x64: '/usr/bin/strip', arm64: '/usr/bin/aarch64-linux-gnu-strip' };
export const executableName = (arch) => `gatekeeper-${version}-linux-${arch}`;

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(1);
}

/** The node:sea assets: name inside the executable -> file. */
function seaAssets() {
  const main = join(dist, 'sea', 'main.cjs');
  if (!existsSync(main) || !existsSync(join(dist, 'sea', 'cli.cjs'))) fail(`${main} is missing: run npm run build first`);
  const assets = { 'cli.cjs': join(dist, 'sea', 'cli.cjs') };
  for (const name of readdirSync(join(dist, 'chunks'))) if (/^gate-(main|policy)-.*\.cjs$/.test(name)) assets[`chunks/${name}`] = join(dist, 'chunks', name);
  for (const name of ['launcher.in', 'logrotate.in', 'rsyncd.conf', 'gatekeeper-metrics.service.in', 'gatekeeper-metrics.timer.in', 'gatekeeper-metrics.cron.in']) assets[`templates/${name}`] = join(root, 'install', name);
  const policies = readdirSync(join(root, 'policies')).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  for (const name of policies) assets[`policies/${name}`] = join(root, 'policies', name);
  return { main, assets, policies };
}

/** The version a runtime reports: run it (x64), or read its npm package (arm64: not runnable here without qemu). */
function runtimeVersion(arch) {
  if (arch === process.arch) return execFileSync(RUNTIMES[arch], ['--version'], { encoding: 'utf8' }).trim();
  const pkg = JSON.parse(readFileSync(join(dirname(dirname(RUNTIMES[arch])), 'package.json'), 'utf8'));
  return `v${pkg.version}`;
}

async function buildExecutables(work) {
  const { main, assets, policies } = seaAssets();
  writeFileSync(join(work, 'manifest.json'), `${JSON.stringify({ version, policies })}\n`);
  assets['manifest.json'] = join(work, 'manifest.json');
  const blob = join(work, 'sea.blob');
  const config = { main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
  for (const arch of Object.keys(RUNTIMES)) if (!existsSync(RUNTIMES[arch])) fail(`${RUNTIMES[arch]} is missing: run npm ci${arch === 'arm64' ? ' and bash scripts/runtimes.sh' : ''}`);
  const versions = Object.fromEntries(Object.keys(RUNTIMES).map((a) => [a, runtimeVersion(a)]));
  if (new Set(Object.values(versions)).size !== 1) fail(`the runtimes differ: ${JSON.stringify(versions)}`);
  // Without a snapshot or a code cache the blob holds only the sources: one blob serves both CPUs.
  execFileSync(realpathSync(RUNTIMES.x64), ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const { inject } = createRequire(import.meta.url)('postject');
  const data = readFileSync(blob);
  const built = [];
  for (const arch of Object.keys(RUNTIMES)) {
    const file = join(out, executableName(arch));
    copyFileSync(realpathSync(RUNTIMES[arch]), file);
    chmodSync(file, 0o755);
    // Node's debug symbols: ~15 MB of the 125.
    execFileSync(STRIP[arch], ['--strip-all', '--remove-section=.comment', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    await inject(file, 'NODE_SEA_BLOB', data, { sentinelFuse: SEA_FUSE });
    chmodSync(file, 0o755);
    say(`${executableName(arch)} (${versions[arch]}): ${(readFileSync(file).length / 1e6).toFixed(0)} MB`);
    built.push(file);
  }
  const reported = execFileSync(join(out, executableName(process.arch)), ['--version'], { encoding: 'utf8' }).trim();
  if (reported !== version) fail(`${executableName(process.arch)} --version says ${reported}, not ${version}`);
  return built;
}

function sha256sums(files) {
  const lines = files.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${f.slice(out.length + 1)}\n`);
  writeFileSync(join(out, 'SHA256SUMS'), lines.join(''));
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(dist, '.package-'));
try {
  const files = await buildExecutables(work);
  const exe = join(out, executableName('x64'));
  files.push(buildDeb({ root, out, work, version, executable: exe }));
  say('deb');
  files.push(buildRpm({ root, out, work, version, executable: exe }));
  say('rpm');
  sha256sums(files);
  say(`dist/pkg: ${files.map((f) => f.slice(out.length + 1)).join(', ')}, SHA256SUMS`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// The self-contained executables (Node single executable applications), from
// a build's dist/ (scripts/build.mjs): used by `npm run package` and by the
// bench, which builds its own copy.
//
// Node runs one CommonJS file as an executable's main (dist/sea/main.cjs,
// src/sea/main.ts), whose require() loads built-ins only; everything else is
// carried as node:sea assets: the CLI (dist/sea/cli.cjs), the gate's chunks
// (compiled with the gate's own code cache, as gate.cjs does), the templates
// and the shipped policies. No startup snapshot and no useCodeCache: a
// prototype measured snapshots 1.27-1.71x slower (they keep the heap, not the
// compiled code) and useCodeCache over the whole bundle no faster.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Node's fuse that tells a node binary it carries an application (Node's single-executable-applications docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** The Node runtime each executable embeds (npm ci; scripts/runtimes.sh); all must be the same version. */
export const runtimes = (root) => ({
  x64: join(root, 'node_modules', 'node', 'bin', 'node'),
  arm64: join(root, 'runtimes', 'node_modules', 'node24-linux-arm64', 'bin', 'node'),
});
/** binutils' strip for each CPU (scripts/system-deps.sh). */
const STRIP = { x64: '/usr/bin/strip', arm64: '/usr/bin/aarch64-linux-gnu-strip' };

export const executableName = (version, arch) => `gatekeeper-${version}-linux-${arch}`;

/** The node:sea assets: name inside the executable -> file. */
function seaAssets(root, dist) {
  const main = join(dist, 'sea', 'main.cjs');
  if (!existsSync(main) || !existsSync(join(dist, 'sea', 'cli.cjs'))) throw new Error(`${main} is missing: run npm run build first`);
  const assets = { 'cli.cjs': join(dist, 'sea', 'cli.cjs') };
  for (const name of readdirSync(join(dist, 'chunks'))) if (/^gate-[a-z]+-.*\.cjs$/.test(name)) assets[`chunks/${name}`] = join(dist, 'chunks', name);
  // Every file in install/: which of them install reads is src/install/assets.ts's TEMPLATES, the one list.
  for (const name of readdirSync(join(root, 'install')).sort()) assets[`templates/${name}`] = join(root, 'install', name);
  const policies = readdirSync(join(root, 'policies')).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  for (const name of policies) assets[`policies/${name}`] = join(root, 'policies', name);
  return { main, assets, policies };
}

/** The version a runtime reports: run it (this CPU's), or read its npm package (another CPU's). */
function runtimeVersion(file, arch) {
  if (arch === process.arch) return execFileSync(file, ['--version'], { encoding: 'utf8' }).trim();
  return `v${JSON.parse(readFileSync(join(dirname(dirname(file)), 'package.json'), 'utf8')).version}`;
}

/**
 * Build the executables for `archs` into `out`; `work` is a scratch directory.
 * Returns [{ arch, file, node }].
 */
export async function buildExecutables({ root, dist, out, work, version, archs = ['x64', 'arm64'], say = () => {} }) {
  const all = runtimes(root);
  for (const arch of archs) if (!existsSync(all[arch])) throw new Error(`${all[arch]} is missing: run npm ci${arch === 'arm64' ? ' and bash scripts/runtimes.sh' : ''}`);
  const versions = Object.fromEntries(archs.map((a) => [a, runtimeVersion(all[a], a)]));
  if (new Set(Object.values(versions)).size !== 1) throw new Error(`the runtimes differ: ${JSON.stringify(versions)}`);
  const { main, assets, policies } = seaAssets(root, dist);
  writeFileSync(join(work, 'manifest.json'), `${JSON.stringify({ version, policies })}\n`);
  assets['manifest.json'] = join(work, 'manifest.json');
  const blob = join(work, 'sea.blob');
  // What Node reads before any of the gate's code runs is closed here, where
  // the executable can close it (SECURITY.md, "The environment"):
  // - execArgvExtension "cli": NODE_OPTIONS is ignored (no --require, no
  //   --inspect, no --openssl-config from the client's side); Node flags come
  //   only from a first argument --node-options=…, which a client cannot
  //   pass (a forced command's arguments are root's); audit uses it to
  //   restart itself with a small young generation (src/audit/memory.ts);
  // - --openssl-config=/dev/null: takes precedence over OPENSSL_CONF, whose
  //   nodejs_conf providers section would load a shared object as root at
  //   start-up (the gate's crypto, a fingerprint and random ids, needs no
  //   configuration);
  // - --disable-sigusr1: SIGUSR1 opens no inspector (src/no-inspector.ts is
  //   the same for every other entry).
  const execArgv = ['--openssl-config=/dev/null', '--disable-sigusr1'];
  const config = { main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, execArgv, execArgvExtension: 'cli', assets };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
  // Without a snapshot or a code cache the blob holds only the sources: one blob serves every CPU.
  execFileSync(realpathSync(all.x64), ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const { inject } = createRequire(import.meta.url)('postject');
  const data = readFileSync(blob);
  const built = [];
  for (const arch of archs) {
    const file = join(out, executableName(version, arch));
    copyFileSync(realpathSync(all[arch]), file);
    chmodSync(file, 0o755);
    // Node's debug symbols are ~15 MB of the 125; the .comment section only names compilers.
    execFileSync(STRIP[arch], ['--strip-all', '--remove-section=.comment', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    await inject(file, 'NODE_SEA_BLOB', data, { sentinelFuse: SEA_FUSE });
    chmodSync(file, 0o755);
    say(`${executableName(version, arch)} (${versions[arch]}): ${(readFileSync(file).length / 1e6).toFixed(0)} MB`);
    built.push({ arch, file, node: versions[arch] });
  }
  const own = built.find((b) => b.arch === process.arch);
  if (own) {
    const reported = execFileSync(own.file, ['--version'], { encoding: 'utf8' }).trim();
    if (reported !== version) throw new Error(`${own.file} --version says ${reported}, not ${version}`);
  }
  return built;
}
